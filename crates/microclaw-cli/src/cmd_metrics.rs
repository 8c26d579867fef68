//! `microclaw metrics export`: a snapshot file, offline from the data dir or from a running
//! gateway (`--url` / `--token`), written atomically.

use crate::gateway_client::resolve_token;
use crate::paths::DataArgs;
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use microclaw_metrics::ExportFormat;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum MetricsCommand {
    /// Write a snapshot (json, csv, svg, png or html).
    Export(ExportArgs),
}

#[derive(Args)]
pub struct ExportArgs {
    #[arg(long, default_value = "json")]
    format: String,
    #[arg(long, default_value_t = 60)]
    minutes: u32,
    /// Output file. Default: microclaw-metrics-<minutes>m.<ext> in the current directory.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Fetch from a running gateway (http://host:port) instead of reading the data dir.
    #[arg(long)]
    url: Option<String>,
    #[arg(long)]
    token: Option<String>,
    #[command(flatten)]
    data: DataArgs,
}

pub async fn run(cmd: MetricsCommand) -> Result<ExitCode> {
    let MetricsCommand::Export(a) = cmd;
    let format = a
        .format
        .parse::<ExportFormat>()
        .map_err(|e| anyhow!(e.message))?;
    if !(1..=43_200).contains(&a.minutes) {
        bail!("--minutes {}: expected 1..43200", a.minutes);
    }
    let bytes = match &a.url {
        Some(url) => fetch(url, a.token.as_deref(), &a.format, a.minutes).await?,
        None => {
            let engine = a.data.open_engine(a.data.load_config()?)?;
            let engine2 = engine.clone();
            let minutes = a.minutes;
            tokio::task::spawn_blocking(move || engine2.metrics_engine().export(format, minutes))
                .await?
                .map_err(|e| anyhow!(e.message))?
        }
    };
    let out = a.output.unwrap_or_else(|| {
        PathBuf::from(format!(
            "microclaw-metrics-{}m.{}",
            a.minutes,
            format.extension()
        ))
    });
    microclaw_metrics::write_export_atomic(&out, &bytes).map_err(|e| anyhow!(e.message))?;
    println!("wrote {} ({} bytes)", out.display(), bytes.len());
    Ok(ExitCode::SUCCESS)
}

async fn fetch(url: &str, token: Option<&str>, format: &str, minutes: u32) -> Result<Vec<u8>> {
    let token = resolve_token(token)
        .ok_or_else(|| anyhow!("--url needs --token or $MICROCLAW_GATEWAY_TOKEN"))?;
    let base = url
        .trim_end_matches('/')
        .replacen("ws://", "http://", 1)
        .replacen("wss://", "https://", 1);
    let base = if base.starts_with("http://") || base.starts_with("https://") {
        base
    } else {
        format!("http://{base}")
    };
    let resp = reqwest::Client::new()
        .get(format!("{base}/api/metrics/export"))
        .query(&[
            ("format", format.to_string()),
            ("minutes", minutes.to_string()),
        ])
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("cannot reach the gateway at {base}"))?;
    let status = resp.status();
    let body = resp.bytes().await?.to_vec();
    if !status.is_success() {
        bail!(
            "gateway answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(body)
}
