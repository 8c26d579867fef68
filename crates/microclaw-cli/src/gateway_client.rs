//! The bridge client used by `microclaw gateway call|status` and `metrics export --url`:
//! URL and token resolution from flags and environment, handshake, one request.

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const DEFAULT_PORT: u16 = 10961;

fn first_env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .filter_map(|n| std::env::var(n).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
}

/// `--url`, else the URL variables, else host/port variables, else 127.0.0.1:<configured port>.
pub fn resolve_url(flag: Option<&str>, configured_port: Option<u16>) -> String {
    let raw = flag
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| {
            first_env(&[
                "MICROCLAW_GATEWAY_URL",
                "OPENCLAW_GATEWAY_URL",
                "GATEWAY_URL",
            ])
        });
    if let Some(u) = raw {
        return if let Some(rest) = u.strip_prefix("http://") {
            format!("ws://{rest}")
        } else if let Some(rest) = u.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if u.starts_with("ws://") || u.starts_with("wss://") {
            u
        } else {
            format!("ws://{u}")
        };
    }
    let host = first_env(&[
        "MICROCLAW_GATEWAY_HOST",
        "OPENCLAW_GATEWAY_HOST",
        "GATEWAY_HOST",
    ])
    .unwrap_or_else(|| "127.0.0.1".into());
    let port = first_env(&[
        "MICROCLAW_GATEWAY_PORT",
        "OPENCLAW_GATEWAY_PORT",
        "GATEWAY_PORT",
    ])
    .and_then(|p| p.parse::<u16>().ok())
    .or(configured_port)
    .unwrap_or(DEFAULT_PORT);
    format!("ws://{host}:{port}/")
}

pub const TOKEN_VARS: [&str; 4] = [
    "MICROCLAW_GATEWAY_TOKEN",
    "OPENCLAW_GATEWAY_TOKEN",
    "GATEWAY_TOKEN",
    "MICROCLAW_API_KEY",
];

pub fn resolve_token(flag: Option<&str>) -> Option<String> {
    flag.map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| first_env(&TOKEN_VARS))
}

/// A failed call: the gateway's error code and message.
#[derive(Debug)]
pub struct CallError {
    pub code: String,
    pub message: String,
}

pub struct Client {
    socket: Socket,
    next_id: u64,
    pub hello: Value,
}

impl Client {
    /// Connects and completes the handshake (protocol 3..4) within `timeout`.
    pub async fn connect(url: &str, token: &str, timeout: Duration) -> Result<Client> {
        tokio::time::timeout(timeout, Self::connect_inner(url, token))
            .await
            .map_err(|_| {
                anyhow!(
                    "gateway at {url} did not complete the handshake within {} ms",
                    timeout.as_millis()
                )
            })?
    }

    async fn connect_inner(url: &str, token: &str) -> Result<Client> {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .with_context(|| format!("cannot connect to the gateway at {url}"))?;
        let mut c = Client {
            socket,
            next_id: 0,
            hello: Value::Null,
        };
        let challenge = c.next_json().await?;
        if challenge.get("event").and_then(Value::as_str) != Some("connect.challenge") {
            bail!("gateway did not send connect.challenge first (got {challenge})");
        }
        let params = json!({
            "minProtocol": 3, "maxProtocol": 4,
            "client": {"id": "cli", "mode": "cli", "version": microclaw_core::VERSION, "platform": std::env::consts::OS},
            "role": "operator",
            "auth": {"token": token},
        });
        match c.request("connect", params).await? {
            Ok(hello) => {
                c.hello = hello;
                Ok(c)
            }
            Err(e) => bail!("gateway refused the connection: {}: {}", e.code, e.message),
        }
    }

    async fn next_json(&mut self) -> Result<Value> {
        loop {
            let msg = self
                .socket
                .next()
                .await
                .ok_or_else(|| anyhow!("gateway closed the connection"))??;
            match msg {
                Message::Text(t) => {
                    return serde_json::from_str(&t)
                        .context("gateway sent a frame that is not JSON")
                }
                Message::Close(frame) => {
                    let why = frame
                        .map(|f| format!("{} {}", f.code, f.reason))
                        .unwrap_or_default();
                    bail!("gateway closed the connection {why}")
                }
                _ => continue,
            }
        }
    }

    /// Sends one request and returns its payload or error, skipping events.
    pub async fn request(
        &mut self,
        method: &str,
        params: Value,
    ) -> Result<Result<Value, CallError>> {
        self.next_id += 1;
        let id = format!("cli-{}", self.next_id);
        let frame = json!({"type": "req", "id": id, "method": method, "params": params});
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .context("sending the request")?;
        loop {
            let v = self.next_json().await?;
            if v.get("type").and_then(Value::as_str) == Some("res")
                && v.get("id").and_then(Value::as_str) == Some(id.as_str())
            {
                if v.get("ok").and_then(Value::as_bool) == Some(true) {
                    return Ok(Ok(v.get("payload").cloned().unwrap_or(Value::Null)));
                }
                let err = v.get("error").cloned().unwrap_or(Value::Null);
                let code = err
                    .pointer("/details/code")
                    .or_else(|| err.get("code"))
                    .and_then(Value::as_str)
                    .unwrap_or("ERROR")
                    .to_string();
                let message = err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                return Ok(Err(CallError { code, message }));
            }
        }
    }

    /// Waits for the terminal `chat` event of `run_id`; returns (state, text or error).
    pub async fn wait_for_run(&mut self, run_id: &str) -> Result<(String, String)> {
        loop {
            let v = self.next_json().await?;
            if v.get("event").and_then(Value::as_str) != Some("chat") {
                continue;
            }
            let p = &v["payload"];
            if p.get("runId").and_then(Value::as_str) != Some(run_id) {
                continue;
            }
            let state = p
                .get("state")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if state == "delta" {
                continue;
            }
            let text = if state == "error" {
                p.get("errorMessage")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            } else {
                message_text(p.get("message"))
            };
            return Ok((state, text));
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// The text of a chat `message` (content blocks or a plain string).
pub fn message_text(m: Option<&Value>) -> String {
    match m {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v
            .get("content")
            .and_then(Value::as_array)
            .map(|blocks| {
                blocks
                    .iter()
                    .filter_map(|b| b.get("text").and_then(Value::as_str))
                    .collect::<String>()
            })
            .unwrap_or_default(),
        None => String::new(),
    }
}
