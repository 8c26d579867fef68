//! `microclaw gateway call <method>` and `microclaw gateway status`.

use crate::gateway_client::{resolve_token, resolve_url, Client, TOKEN_VARS};
use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Subcommand)]
pub enum GatewayCommand {
    /// Call one bridge method and print its payload.
    Call(CallArgs),
    /// Whether the gateway answers (version, uptime, connections, active runs).
    Status(StatusArgs),
}

#[derive(Args)]
pub struct Target {
    /// Gateway URL (ws://, wss://, http:// or host:port). Default: $MICROCLAW_GATEWAY_URL, or ws://127.0.0.1:10961/.
    #[arg(long)]
    url: Option<String>,
    /// API key. Default: $MICROCLAW_GATEWAY_TOKEN, $OPENCLAW_GATEWAY_TOKEN, $GATEWAY_TOKEN or $MICROCLAW_API_KEY.
    #[arg(long)]
    token: Option<String>,
    /// Overall timeout in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    timeout: u64,
    /// Compact JSON output.
    #[arg(long)]
    json: bool,
    /// Where the port comes from when no URL is given: `server.port` of this config
    /// (`--config`, else `<data-dir>/microclaw.toml`, plus `MICROCLAW_SERVER__PORT`).
    #[command(flatten)]
    data: crate::paths::DataArgs,
}

impl Target {
    /// The URL to dial: `--url`, the URL/host/port variables, else the configured port.
    fn url(&self) -> Result<String> {
        let port = if self.url.is_some() {
            None
        } else {
            self.configured_port()?
        };
        Ok(resolve_url(self.url.as_deref(), port))
    }

    /// `server.port` from the config; a missing default file is fine (the built-in default).
    fn configured_port(&self) -> Result<Option<u16>> {
        if self.data.config.is_none() && self.data.data_dir.is_none() {
            // No data dir named: the platform one, if it is there and readable.
            return Ok(self.data.load_config().ok().map(|c| c.server.port));
        }
        Ok(Some(self.data.load_config()?.server.port))
    }
}

#[derive(Args)]
pub struct CallArgs {
    /// Method name (dotted or underscore alias), e.g. health, status, sessions_send.
    method: String,
    /// Params as a JSON object.
    #[arg(long)]
    params: Option<String>,
    /// For chat.send / sessions.send: wait for the run to end and print the reply.
    #[arg(long)]
    wait: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(Args)]
pub struct StatusArgs {
    /// Also show the SLO summary and the self-check risk level.
    #[arg(long)]
    deep: bool,
    #[command(flatten)]
    target: Target,
}

pub async fn run(cmd: GatewayCommand) -> Result<ExitCode> {
    match cmd {
        GatewayCommand::Call(a) => call(a).await,
        GatewayCommand::Status(a) => status(a).await,
    }
}

fn print(v: &Value, compact: bool) {
    if compact {
        println!("{v}");
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
        );
    }
}

fn no_token() -> ExitCode {
    eprintln!(
        "no gateway token: pass --token or set one of {}",
        TOKEN_VARS.join(", ")
    );
    ExitCode::from(2)
}

fn is_send_method(m: &str) -> bool {
    matches!(
        m,
        "chat.send" | "sessions.send" | "sessions_send" | "chat_send"
    )
}

async fn call(a: CallArgs) -> Result<ExitCode> {
    let Some(token) = resolve_token(a.target.token.as_deref()) else {
        return Ok(no_token());
    };
    let params: Value = match a.params.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => json!({}),
        Some(p) => match serde_json::from_str(p) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                eprintln!("--params must be a JSON object, e.g. '{{\"sessionKey\":\"main\"}}'");
                return Ok(ExitCode::from(2));
            }
            Err(e) => {
                eprintln!("--params is not valid JSON: {e}");
                return Ok(ExitCode::from(2));
            }
        },
    };
    let url = a.target.url()?;
    let timeout = Duration::from_millis(a.target.timeout.max(1));
    let method = a.method.clone();
    let work = async move {
        let mut client = Client::connect(&url, &token, timeout).await?;
        let result = client.request(&method, params).await?;
        let code = match result {
            Ok(payload) => {
                print(&payload, a.target.json);
                let run_id = payload
                    .get("runId")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                match (a.wait && is_send_method(&method), run_id) {
                    (true, Some(run_id)) => {
                        let (state, text) = client.wait_for_run(&run_id).await?;
                        println!("{text}");
                        if state == "final" {
                            ExitCode::SUCCESS
                        } else {
                            eprintln!("run {run_id} ended in state {state}");
                            ExitCode::from(1)
                        }
                    }
                    _ => ExitCode::SUCCESS,
                }
            }
            Err(e) => {
                eprintln!(
                    "gateway method '{method}' failed: {}: {}",
                    e.code, e.message
                );
                ExitCode::from(1)
            }
        };
        client.close().await;
        anyhow::Ok(code)
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => {
            eprintln!(
                "gateway method '{}' timed out after {} ms",
                a.method,
                timeout.as_millis()
            );
            Ok(ExitCode::from(1))
        }
    }
}

async fn status(a: StatusArgs) -> Result<ExitCode> {
    let url = a.target.url()?;
    let timeout = Duration::from_millis(a.target.timeout.max(1));
    let Some(token) = resolve_token(a.target.token.as_deref()) else {
        if a.deep {
            return Ok(no_token());
        }
        // Without a token the public `GET /api/health` still says whether it answers.
        return health_over_http(&url, timeout, a.target.json).await;
    };
    let method = if a.deep { "status" } else { "health" };
    let outcome = async {
        let mut c = Client::connect(&url, &token, timeout).await?;
        let r = c.request(method, json!({})).await?;
        c.close().await;
        anyhow::Ok(r)
    };
    let payload = match tokio::time::timeout(timeout, outcome).await {
        Ok(Ok(Ok(p))) => p,
        Ok(Ok(Err(e))) => {
            eprintln!(
                "gateway at {url} answered with an error: {}: {}",
                e.code, e.message
            );
            return Ok(ExitCode::from(1));
        }
        Ok(Err(e)) => {
            eprintln!("gateway at {url} does not answer: {e:#}");
            return Ok(ExitCode::from(1));
        }
        Err(_) => {
            eprintln!(
                "gateway at {url} does not answer within {} ms",
                timeout.as_millis()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let mut out = json!({
        "url": url, "reachable": true,
        "version": payload.get("version"), "uptimeMs": payload.get("uptimeMs"),
        "connections": payload.get("connections"), "activeRuns": payload.get("activeRuns"),
    });
    if a.deep {
        out["slo"] = payload.get("slo").cloned().unwrap_or(Value::Null);
        out["risk_level"] = payload.get("risk_level").cloned().unwrap_or(Value::Null);
    }
    print(&out, a.target.json);
    Ok(ExitCode::SUCCESS)
}

/// `ws://host:port/…` → `http://host:port` (and `wss` → `https`).
fn http_base(ws_url: &str) -> String {
    let http = ws_url
        .replacen("wss://", "https://", 1)
        .replacen("ws://", "http://", 1);
    match http.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest)),
        None => http,
    }
}

async fn health_over_http(url: &str, timeout: Duration, compact: bool) -> Result<ExitCode> {
    let base = http_base(url);
    let client = reqwest::Client::builder().timeout(timeout).build()?;
    let answer = async {
        let resp = client.get(format!("{base}/api/health")).send().await?;
        let status = resp.status();
        let body: Value = resp.json().await?;
        anyhow::Ok((status, body))
    };
    match answer.await {
        Ok((status, body)) if status.is_success() => {
            let out = json!({
                "url": url, "reachable": true, "via": "http (no token: public /api/health)",
                "version": body.get("version"), "uptimeMs": body.get("uptimeMs"),
                "connections": body.get("connections"), "activeRuns": body.get("activeRuns"),
            });
            print(&out, compact);
            Ok(ExitCode::SUCCESS)
        }
        Ok((status, _)) => {
            eprintln!("gateway at {base} answered /api/health with {status}");
            Ok(ExitCode::from(1))
        }
        Err(e) => {
            eprintln!("gateway at {base} does not answer: {e:#}");
            Ok(ExitCode::from(1))
        }
    }
}
