//! A short-lived bridge client to a remote gateway: connect with protocol 3..4 and
//! `auth.token` (so it works against OpenClaw, MicroClaw and other consoles), then one or more
//! calls. Every wait is bounded by the caller's deadline. The token is sent in the connect
//! frame only and never appears in an error or a log line.

use futures_util::{SinkExt, StreamExt};
use microclaw_core::{Error, Result};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Why a connect failed: the remote refused the token, or it could not be reached.
#[derive(Debug)]
pub enum ConnectError {
    Auth(String),
    Down(String),
}

pub struct RemoteConn {
    ws: Ws,
    deadline: Instant,
    next_id: u64,
    /// The hello-ok payload.
    pub hello: Value,
}

/// The WebSocket URL for a gateway address: `ws://`/`wss://` as given, `http(s)://` mapped.
pub fn ws_url(url: &str) -> Result<String> {
    let u = url.trim();
    let mapped = if let Some(rest) = u.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = u.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if u.starts_with("ws://") || u.starts_with("wss://") {
        u.to_string()
    } else {
        return Err(Error::invalid(format!(
            "gateway url '{u}' is not usable: expected ws://, wss://, http:// or https:// followed by host:port"
        )));
    };
    let host = mapped.split("://").nth(1).unwrap_or("");
    if host.is_empty() || host.starts_with('/') || host.contains(char::is_whitespace) {
        return Err(Error::invalid(format!(
            "gateway url '{u}' has no host: expected e.g. ws://10.0.0.5:18789/"
        )));
    }
    Ok(mapped)
}

fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

impl RemoteConn {
    /// Connects and completes the handshake within `timeout`.
    pub async fn connect(
        url: &str,
        token: &str,
        timeout: Duration,
    ) -> std::result::Result<RemoteConn, ConnectError> {
        let deadline = Instant::now() + timeout;
        let target = ws_url(url).map_err(|e| ConnectError::Down(e.message))?;
        let (ws, _) = match tokio::time::timeout(
            remaining(deadline),
            tokio_tungstenite::connect_async(target.as_str()),
        )
        .await
        {
            Err(_) => {
                return Err(ConnectError::Down(format!(
                    "connect timed out after {} ms",
                    timeout.as_millis()
                )))
            }
            Ok(Err(e)) => return Err(ConnectError::Down(format!("cannot connect: {e}"))),
            Ok(Ok(ok)) => ok,
        };
        let mut conn = RemoteConn {
            ws,
            deadline,
            next_id: 0,
            hello: Value::Null,
        };
        // OpenClaw and MicroClaw send `connect.challenge` first; a gateway that does not is
        // fine too (the connect request is sent either way).
        let params = json!({
            "minProtocol": 3, "maxProtocol": 4,
            "client": {"id": "gateway-client", "mode": "backend",
                       "version": microclaw_core::VERSION, "platform": std::env::consts::OS},
            "role": "operator", "caps": [], "userAgent": "microclaw-fleet",
            "auth": {"token": token},
        });
        match conn.request("connect", params).await {
            Ok(hello) => {
                conn.hello = hello;
                Ok(conn)
            }
            Err(RemoteError::Refused { code, message }) => {
                let text = format!("{code}: {message}");
                let lower = message.to_ascii_lowercase();
                let auth = matches!(code.as_str(), "UNAUTHORIZED" | "FORBIDDEN")
                    || [
                        "token",
                        "auth",
                        "api key",
                        "password",
                        "credential",
                        "pairing",
                    ]
                    .iter()
                    .any(|w| lower.contains(w));
                Err(if auth {
                    ConnectError::Auth(text)
                } else {
                    ConnectError::Down(text)
                })
            }
            Err(RemoteError::Transport(t)) => Err(ConnectError::Down(t)),
        }
    }

    /// One call; the remote's error comes back as `RemoteError::Refused`.
    pub async fn request(
        &mut self,
        method: &str,
        params: Value,
    ) -> std::result::Result<Value, RemoteError> {
        self.next_id += 1;
        let id = format!("fleet-{}", self.next_id);
        let frame = json!({"type": "req", "id": id, "method": method, "params": params});
        let send = self.ws.send(Message::text(frame.to_string()));
        match tokio::time::timeout(remaining(self.deadline), send).await {
            Err(_) => return Err(RemoteError::Transport("sending timed out".into())),
            Ok(Err(e)) => return Err(RemoteError::Transport(format!("send failed: {e}"))),
            Ok(Ok(())) => {}
        }
        loop {
            let next = tokio::time::timeout(remaining(self.deadline), self.ws.next()).await;
            let msg = match next {
                Err(_) => {
                    return Err(RemoteError::Transport(format!(
                        "no answer to {method} before the deadline"
                    )))
                }
                Ok(None) => return Err(RemoteError::Transport("the socket closed".into())),
                Ok(Some(Err(e))) => {
                    return Err(RemoteError::Transport(format!("read failed: {e}")))
                }
                Ok(Some(Ok(m))) => m,
            };
            let text = match msg {
                Message::Text(t) => t,
                Message::Close(c) => {
                    let why = c
                        .map(|c| format!("{} {}", c.code, c.reason))
                        .unwrap_or_default();
                    return Err(RemoteError::Transport(format!("the socket closed {why}")));
                }
                _ => continue,
            };
            let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
                continue;
            };
            if v["type"] != "res" || v["id"] != id.as_str() {
                continue; // events (challenge, tick, health, …)
            }
            if v["ok"] == true {
                return Ok(v["payload"].clone());
            }
            let err = &v["error"];
            return Err(RemoteError::Refused {
                code: err["code"].as_str().unwrap_or("ERROR").to_string(),
                message: err["message"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(500)
                    .collect(),
            });
        }
    }

    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_millis(200), self.ws.close(None)).await;
    }
}

#[derive(Debug)]
pub enum RemoteError {
    /// The remote answered with an error.
    Refused { code: String, message: String },
    /// The connection failed or timed out.
    Transport(String),
}
