//! `microclaw start`: open the store, serve the gateway, stop gracefully on a signal.

use crate::paths::DataArgs;
use anyhow::{anyhow, Context, Result};
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Address to listen on (default from config: 127.0.0.1).
    #[arg(long)]
    host: Option<String>,
    /// Port to listen on; 0 picks a free port (default from config: 10961).
    #[arg(long)]
    port: Option<u16>,
    #[command(flatten)]
    data: DataArgs,
}

pub async fn run(a: StartArgs) -> Result<ExitCode> {
    init_tracing();
    let mut config = a.data.load_config()?;
    if let Some(h) = a.host {
        config.server.host = h;
    }
    if let Some(p) = a.port {
        config.server.port = p;
    }
    let (host, port) = (config.server.host.clone(), config.server.port);
    let listener = tokio::net::TcpListener::bind((host.as_str(), port))
        .await
        .with_context(|| {
            format!("cannot listen on {host}:{port} (is another gateway running? try --port 0)")
        })?;
    let local = listener.local_addr()?;
    // Install the signal handlers before announcing the address: a SIGTERM that arrives right
    // after the `listening on` line must still stop gracefully.
    let shutdown = shutdown_signal()?;
    let engine = a.data.open_engine(config)?;
    if let Some(path) = &a.data.config {
        engine.set_config_file(path.clone());
    }
    engine.start_background();
    let url = format!("http://{local}");
    say(format_args!("listening on {url}"));
    if let Some(token) = engine.setup_token() {
        say(format_args!(
            "first run: set the operator password at {url}/#/setup?token={token}"
        ));
        say(format_args!(
            "  (or run `microclaw auth password set --data-dir {}`)",
            engine.data_dir().display()
        ));
    }
    let check = microclaw_engine::self_check::run(&engine).map_err(|e| anyhow!(e.message))?;
    for w in check
        .warnings
        .iter()
        .filter(|w| w.code != "operator_password_missing")
    {
        tracing::warn!(code = w.code, "self-check: {} (fix: {})", w.message, w.fix);
    }
    microclaw_gateway::serve(listener, engine, shutdown)
        .await
        .context("gateway stopped with an error")?;
    say(format_args!("stopped"));
    Ok(ExitCode::SUCCESS)
}

/// Logs go to stderr and to the process log ring (`logs.tail`, `GET /api/logs`).
fn init_tracing() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_env("MICROCLAW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,microclaw=info"));
    let ring = microclaw_engine::log_ring::install_process_ring();
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(microclaw_engine::log_ring::LogRingLayer::new(ring))
        .try_init();
}

/// Ctrl-C or SIGTERM; the handlers are registered when this returns.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot install the SIGTERM handler")?;
    #[cfg(unix)]
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("cannot install the SIGINT handler")?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// A line on stdout that never panics: a closed stdout (the reader went away) must not stop
/// the server, so write errors are ignored.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
