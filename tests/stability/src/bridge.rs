//! A bridge client: the WebSocket upgrade at `GET /`, the challenge/connect handshake, requests
//! matched to responses by id, and events buffered for later waits.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub type Ws = WebSocketStream<TcpStream>;

/// One frame as the client saw it.
#[derive(Debug, Clone)]
pub enum Frame {
    Json(Value),
    /// A text frame that is not JSON.
    Text,
    Binary,
    /// A close frame (its code) or the end of the stream (`None`).
    Closed(Option<u16>),
}

/// Opens TCP (optionally with a small receive buffer) and upgrades; no protocol yet.
pub async fn upgrade(addr: SocketAddr, recv_buffer: Option<u32>) -> Result<Ws, String> {
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    if let Some(n) = recv_buffer {
        socket
            .set_recv_buffer_size(n)
            .map_err(|e| format!("SO_RCVBUF: {e}"))?;
    }
    let tcp = tokio::time::timeout(Duration::from_secs(10), socket.connect(addr))
        .await
        .map_err(|_| format!("TCP connect to {addr} timed out"))?
        .map_err(|e| format!("TCP connect to {addr}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let url = format!("ws://{addr}/");
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::client_async(url.as_str(), tcp),
    )
    .await
    .map_err(|_| format!("WebSocket upgrade at {url} timed out"))?
    .map_err(|e| format!("WebSocket upgrade at {url}: {e}"))?;
    Ok(ws)
}

/// The next frame within `limit` (pings and pongs skipped); Err on timeout.
pub async fn next_frame(ws: &mut Ws, limit: Duration) -> Result<Frame, String> {
    let deadline = Instant::now() + limit;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| format!("no frame within {limit:?}"))?;
        return Ok(match msg {
            None => Frame::Closed(None),
            Some(Err(_)) => Frame::Closed(None),
            Some(Ok(Message::Text(t))) => match serde_json::from_str(t.as_str()) {
                Ok(v) => Frame::Json(v),
                Err(_) => Frame::Text,
            },
            Some(Ok(Message::Binary(_))) => Frame::Binary,
            Some(Ok(Message::Close(c))) => Frame::Closed(c.map(|c| u16::from(c.code))),
            Some(Ok(_)) => continue,
        });
    }
}

/// The `connect` request for `token` speaking exactly protocol `proto`.
pub fn connect_frame(id: &str, token: &str, proto: u8) -> String {
    json!({"type": "req", "id": id, "method": "connect", "params": {
        "minProtocol": proto, "maxProtocol": proto, "role": "operator",
        "client": {"id": "cli", "mode": "cli", "version": "stability", "platform": "linux"},
        "auth": {"token": token}}})
    .to_string()
}

/// An authenticated connection.
pub struct Conn {
    pub ws: Ws,
    pub hello: Value,
    pub events: VecDeque<Value>,
    next_id: u64,
    /// Set once the server closed the connection.
    pub closed: Option<Option<u16>>,
}

impl Conn {
    pub async fn connect(addr: SocketAddr, token: &str, proto: u8) -> Result<Conn, String> {
        Self::connect_with(addr, token, proto, None).await
    }

    pub async fn connect_with(
        addr: SocketAddr,
        token: &str,
        proto: u8,
        recv_buffer: Option<u32>,
    ) -> Result<Conn, String> {
        let mut ws = upgrade(addr, recv_buffer).await?;
        match next_frame(&mut ws, Duration::from_secs(10)).await? {
            Frame::Json(v) if v["event"] == "connect.challenge" => {}
            other => return Err(format!("expected connect.challenge first, got {other:?}")),
        }
        ws.send(Message::text(connect_frame("c", token, proto)))
            .await
            .map_err(|e| format!("sending connect: {e}"))?;
        let mut conn = Conn {
            ws,
            hello: Value::Null,
            events: VecDeque::new(),
            next_id: 0,
            closed: None,
        };
        let res = conn
            .await_response(&json!("c"), Duration::from_secs(15))
            .await?;
        if res["ok"] != true {
            return Err(format!("connect refused: {}", res["error"]));
        }
        conn.hello = res["payload"].clone();
        Ok(conn)
    }

    pub async fn send_text(&mut self, text: String) -> Result<(), String> {
        self.ws
            .send(Message::text(text))
            .await
            .map_err(|e| format!("send failed: {e}"))
    }

    /// Reads until the response with `id`; events are buffered, other responses dropped.
    pub async fn await_response(&mut self, id: &Value, limit: Duration) -> Result<Value, String> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match next_frame(&mut self.ws, left).await {
                Err(_) => return Err(format!("no response to request {id} within {limit:?}")),
                Ok(Frame::Json(v)) if v["type"] == "res" && &v["id"] == id => return Ok(v),
                Ok(Frame::Json(v)) if v["type"] == "event" => self.push_event(v),
                Ok(Frame::Closed(code)) => {
                    self.closed = Some(code);
                    return Err(format!("connection closed ({code:?}) before response {id}"));
                }
                Ok(_) => {}
            }
        }
    }

    fn push_event(&mut self, v: Value) {
        if self.events.len() >= 20_000 {
            self.events.pop_front();
        }
        self.events.push_back(v);
    }

    /// Sends a request and returns the whole response frame.
    pub async fn request(
        &mut self,
        method: &str,
        params: Value,
        limit: Duration,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = json!(format!("r{}", self.next_id));
        let frame = json!({"type": "req", "id": id, "method": method, "params": params});
        self.send_text(frame.to_string()).await?;
        self.await_response(&id, limit).await
    }

    /// A request that must succeed: its payload.
    pub async fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let res = self
            .request(method, params, Duration::from_secs(15))
            .await?;
        if res["ok"] == true {
            Ok(res["payload"].clone())
        } else {
            Err(format!("{method} failed: {}", res["error"]))
        }
    }

    /// The first buffered or arriving event matching `pred` (it is removed from the buffer).
    pub async fn wait_event(
        &mut self,
        pred: impl Fn(&Value) -> bool,
        limit: Duration,
    ) -> Result<Value, String> {
        if let Some(i) = self.events.iter().position(&pred) {
            return Ok(self.events.remove(i).unwrap_or_default());
        }
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match next_frame(&mut self.ws, left).await {
                Err(_) => return Err(format!("the awaited event did not arrive within {limit:?}")),
                Ok(Frame::Json(v)) if v["type"] == "event" => {
                    if pred(&v) {
                        return Ok(v);
                    }
                    self.push_event(v);
                }
                Ok(Frame::Closed(code)) => {
                    self.closed = Some(code);
                    return Err(format!(
                        "connection closed ({code:?}) while waiting for an event"
                    ));
                }
                Ok(_) => {}
            }
        }
    }

    /// Reads frames for `limit`, buffering events; returns the close code if the server closed.
    pub async fn drain_for(&mut self, limit: Duration) -> Option<Option<u16>> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            match next_frame(&mut self.ws, left).await {
                Err(_) => return None,
                Ok(Frame::Json(v)) if v["type"] == "event" => self.push_event(v),
                Ok(Frame::Closed(code)) => {
                    self.closed = Some(code);
                    return Some(code);
                }
                Ok(_) => {}
            }
        }
    }

    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.ws.close(None)).await;
    }
}

/// A chat event's run id and state.
pub fn chat_state(ev: &Value) -> Option<(&str, &str)> {
    if ev["event"] != "chat" {
        return None;
    }
    Some((
        ev["payload"]["runId"].as_str()?,
        ev["payload"]["state"].as_str()?,
    ))
}

/// True for the terminal chat event (`final`, `error`, `aborted`) of `run_id`.
pub fn is_terminal(ev: &Value, run_id: &str) -> bool {
    matches!(chat_state(ev), Some((r, s)) if r == run_id && s != "delta")
}
