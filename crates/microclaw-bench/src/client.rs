//! A bridge connection for the bench: TCP with Nagle off, the WebSocket upgrade, then the
//! handshake (wait for `connect.challenge`, send `connect`, wait for its response).

use crate::frames::{self, Incoming};
use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// One connected, authenticated bridge connection.
pub type Ws = WebSocketStream<TcpStream>;

/// The id the bench gives its connect request.
pub const CONNECT_ID: &str = "connect";

/// `http://h:p/` or `ws://h:p/` → (`ws://h:p/`, `h:p`). Only plain ws on loopback-style hosts.
pub fn ws_url(url: &str) -> Result<(String, String)> {
    let rest = url
        .strip_prefix("ws://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| anyhow!("--url {url:?}: expected ws://HOST:PORT/ or http://HOST:PORT/"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || !authority.contains(':') {
        bail!("--url {url:?}: expected an explicit HOST:PORT");
    }
    Ok((format!("ws://{authority}{path}"), authority.to_string()))
}

/// Read buffer for connections that mostly sit idle (tungstenite allocates 128 KiB by default,
/// eagerly, per connection).
pub const IDLE_READ_BUFFER: usize = 4 * 1024;

/// Opens a connection and completes the handshake within `timeout`.
pub async fn connect(url: &str, token: &str, timeout: Duration) -> Result<Ws> {
    connect_with(url, token, timeout, WebSocketConfig::default()).await
}

/// `connect` with a small read buffer, for holding many idle connections.
pub async fn connect_idle(url: &str, token: &str, timeout: Duration) -> Result<Ws> {
    let config = WebSocketConfig::default().read_buffer_size(IDLE_READ_BUFFER);
    connect_with(url, token, timeout, config).await
}

async fn connect_with(
    url: &str,
    token: &str,
    timeout: Duration,
    config: WebSocketConfig,
) -> Result<Ws> {
    tokio::time::timeout(timeout, connect_inner(url, token, config))
        .await
        .map_err(|_| anyhow!("handshake with {url} did not finish within {timeout:?}"))?
}

async fn connect_inner(url: &str, token: &str, config: WebSocketConfig) -> Result<Ws> {
    let (ws_url, authority) = ws_url(url)?;
    let tcp = TcpStream::connect(&authority)
        .await
        .with_context(|| format!("TCP connect to {authority}"))?;
    tcp.set_nodelay(true).context("setting TCP_NODELAY")?;
    let (mut ws, _) =
        tokio_tungstenite::client_async_with_config(ws_url.as_str(), tcp, Some(config))
            .await
            .with_context(|| format!("WebSocket upgrade at {ws_url}"))?;
    loop {
        let text = next_text(&mut ws).await?;
        if let Incoming::Event { name } = frames::parse(&text) {
            if name == "connect.challenge" {
                break;
            }
        }
    }
    ws.send(Message::text(frames::connect_request(CONNECT_ID, token)))
        .await
        .context("sending connect")?;
    loop {
        let text = next_text(&mut ws).await?;
        match frames::parse(&text) {
            Incoming::Res { id, ok, error } if id.as_deref() == Some(CONNECT_ID) => {
                if ok {
                    return Ok(ws);
                }
                bail!(
                    "connect refused: {}",
                    error.unwrap_or_else(|| "no error given".into())
                );
            }
            _ => continue,
        }
    }
}

/// The next text frame; pings are answered by tungstenite, binary/pong frames skipped.
/// A close or the end of the stream is an error (the bench never expects one).
pub async fn next_text(ws: &mut Ws) -> Result<String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(Message::Close(frame))) => bail!("server closed the connection: {frame:?}"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(anyhow!(e).context("reading from the bridge")),
            None => bail!("the bridge connection ended"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalised_to_ws() {
        assert_eq!(
            ws_url("http://127.0.0.1:9/").unwrap(),
            ("ws://127.0.0.1:9/".into(), "127.0.0.1:9".into())
        );
        assert_eq!(
            ws_url("ws://127.0.0.1:9").unwrap(),
            ("ws://127.0.0.1:9/".into(), "127.0.0.1:9".into())
        );
        assert!(ws_url("https://x:1/").is_err());
        assert!(ws_url("ws://nohostport/").is_err());
    }
}
