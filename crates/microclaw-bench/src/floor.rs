//! The floor: a WebSocket server that speaks just enough of the bridge (a challenge, any
//! connect accepted) and answers every request with `{"type":"res","id":…,"ok":true,
//! "payload":{}}` without doing anything. Whatever the real gateway costs above this is ours.

use futures_util::{FutureExt, SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

/// Per-connection read buffer: tungstenite's default (128 KiB, allocated eagerly) would make
/// the floor's memory per idle connection a library default rather than a floor.
pub const READ_BUFFER: usize = 8 * 1024;

const CHALLENGE: &str = r#"{"type":"event","event":"connect.challenge","payload":{"nonce":"00000000-0000-4000-8000-000000000000","ts":0}}"#;

/// Accepts connections forever, one task each.
pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (tcp, _) = listener.accept().await?;
        tokio::spawn(async move {
            let _ = connection(tcp).await;
        });
    }
}

#[derive(Deserialize)]
struct Req {
    #[serde(default)]
    id: Value,
    #[serde(default)]
    method: String,
}

/// The response text for one inbound frame; `None` for frames that are not requests.
pub fn answer(text: &str) -> Option<String> {
    let req: Req = serde_json::from_str(text).ok()?;
    let payload = if req.method == "connect" {
        r#"{"type":"hello-ok","protocol":3}"#
    } else {
        "{}"
    };
    Some(format!(
        r#"{{"type":"res","id":{},"ok":true,"payload":{payload}}}"#,
        req.id
    ))
}

async fn connection(tcp: TcpStream) -> anyhow::Result<()> {
    tcp.set_nodelay(true)?;
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let mut ws = tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await?;
    ws.send(Message::text(CHALLENGE)).await?;
    while let Some(frame) = ws.next().await {
        let mut pending = reply(frame?, &mut ws).await?;
        // Answer everything already buffered, then flush once.
        while let Some(frame) = ws.next().now_or_never() {
            match frame {
                Some(f) => pending |= reply(f?, &mut ws).await?,
                None => return Ok(()),
            }
        }
        if pending {
            ws.flush().await?;
        }
    }
    Ok(())
}

/// Queues the answer to one frame; true when something was queued.
async fn reply(
    msg: Message,
    ws: &mut tokio_tungstenite::WebSocketStream<TcpStream>,
) -> anyhow::Result<bool> {
    match msg {
        Message::Text(t) => match answer(t.as_str()) {
            Some(res) => {
                ws.feed(Message::text(res)).await?;
                Ok(true)
            }
            None => Ok(false),
        },
        Message::Close(_) => anyhow::bail!("closed"),
        _ => Ok(false),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn answers_any_request_with_its_id_and_an_empty_payload() {
        let a = answer(r#"{"type":"req","id":"42","method":"sessions.list"}"#).unwrap();
        let v: Value = serde_json::from_str(&a).unwrap();
        assert_eq!(v["id"], "42");
        assert_eq!(v["ok"], true);
        assert_eq!(v["payload"], serde_json::json!({}));
        let c = answer(r#"{"type":"req","id":"c","method":"connect","params":{}}"#).unwrap();
        let v: Value = serde_json::from_str(&c).unwrap();
        assert_eq!(v["payload"]["type"], "hello-ok");
        assert!(answer("junk").is_none());
    }
}
