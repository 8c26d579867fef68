//! Shared helpers for the bridge conformance suite: a real gateway on 127.0.0.1:0 over a temp
//! data dir, API keys made through the engine, and a small WebSocket client that reads
//! frames with timeouts (every wait is bounded).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
#![allow(dead_code)]

use ed25519_dalek::{Signer, SigningKey};
use futures_util::{SinkExt, StreamExt};
use microclaw_core::Config;
use microclaw_engine::{Engine, EngineOptions};
use serde_json::{json, Value};
use sha2::Digest;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestServer {
    pub addr: SocketAddr,
    pub engine: Arc<Engine>,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Starts the real gateway with the default config changed by `tweak`.
/// Serves `engine` on a fresh loopback port: its address and the sender that stops it.
pub async fn serve_on_loopback(
    engine: Arc<Engine>,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let e = engine.clone();
    tokio::spawn(async move {
        let _ = microclaw_gateway::serve(listener, e, async move {
            let _ = rx.await;
        })
        .await;
    });
    (addr, tx)
}

pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    tweak(&mut config);
    let engine = Engine::open(EngineOptions {
        data_dir: dir.path().to_path_buf(),
        config,
        clock: None,
    })
    .unwrap();
    let (addr, tx) = crate::common::serve_on_loopback(engine.clone()).await;
    TestServer {
        addr,
        engine,
        _dir: dir,
        stop: Some(tx),
    }
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

/// A new API key on `engine` with these scopes, labelled `label`.
pub fn api_key(engine: &Engine, label: &str, scopes: &[&str]) -> String {
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    microclaw_engine::ops::auth::key_create_blocking(engine, "test", label, &scopes, None)
        .unwrap()
        .api_key
}

impl TestServer {
    /// A new API key with these scopes (e.g. `["operator.read"]`).
    pub fn key(&self, scopes: &[&str]) -> String {
        api_key(&self.engine, "bridge-test", scopes)
    }

    pub fn rw_key(&self) -> String {
        self.key(&["operator.read", "operator.write"])
    }

    /// A raw socket that has read nothing yet.
    pub async fn raw(&self) -> Client {
        let url = format!("ws://{}/", self.addr);
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .unwrap()
            .unwrap();
        Client {
            ws,
            events: VecDeque::new(),
            next_id: 0,
            challenge: Value::Null,
        }
    }

    /// Connected with protocol 3 (MicroClaw style: token only). The hello and first tick are consumed.
    pub async fn client_v3(&self, token: &str) -> (Client, Value) {
        let mut c = self.raw().await;
        c.read_challenge().await;
        let res = c
            .connect(json!({"minProtocol": 3, "maxProtocol": 3, "auth": {"token": token}}))
            .await;
        assert_eq!(res["ok"], true, "connect failed: {res}");
        let tick = c.next_event("tick").await;
        assert!(tick.get("seq").is_none(), "protocol 3 frames carry no seq");
        (c, res["payload"].clone())
    }

    /// Connected with protocol 4 (OpenClaw CLI style). The hello and first tick are consumed.
    pub async fn client_v4(&self, token: &str) -> (Client, Value) {
        let mut c = self.raw().await;
        c.read_challenge().await;
        let res = c.connect(openclaw_connect(token, None)).await;
        assert_eq!(res["ok"], true, "connect failed: {res}");
        let tick = c.next_event("tick").await;
        assert_eq!(tick["seq"], 1, "the first event after hello-ok has seq 1");
        (c, res["payload"].clone())
    }
}

/// An OpenClaw CLI connect request's params.
pub fn openclaw_connect(token: &str, scopes: Option<&[&str]>) -> Value {
    let mut p = json!({
        "minProtocol": 3, "maxProtocol": 4,
        "client": {"id": "cli", "mode": "cli", "version": "2026.1.0", "platform": "linux"},
        "role": "operator", "caps": [], "locale": "en-US", "userAgent": "openclaw-cli",
        "auth": {"token": token},
    });
    if let Some(s) = scopes {
        p["scopes"] = json!(s);
    }
    p
}

/// Adds a signed `device` to connect params (`v3` or `v2` payload).
pub fn sign_device(
    params: &mut Value,
    sk: &SigningKey,
    nonce: &str,
    signed_at: i64,
    version: &str,
) {
    let pk = sk.verifying_key().to_bytes();
    let id = hex::encode(sha2::Sha256::digest(pk));
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let scopes: Vec<String> = params["scopes"]
        .as_array()
        .map(|a| a.iter().map(s).collect())
        .unwrap_or_default();
    let base = format!(
        "{id}|{}|{}|{}|{}|{signed_at}|{}|{nonce}",
        s(&params["client"]["id"]),
        s(&params["client"]["mode"]),
        s(&params["role"]),
        scopes.join(","),
        s(&params["auth"]["token"]),
    );
    let payload = match version {
        "v3" => format!(
            "v3|{base}|{}|{}",
            s(&params["client"]["platform"]).to_lowercase(),
            ""
        ),
        _ => format!("v2|{base}"),
    };
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    params["device"] = json!({
        "id": id, "publicKey": b64.encode(pk), "nonce": nonce, "signedAt": signed_at,
        "signature": b64.encode(sk.sign(payload.as_bytes()).to_bytes()),
    });
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Events read while waiting for a response, oldest first.
    pub events: VecDeque<Value>,
    next_id: u64,
    pub challenge: Value,
}

/// What reading the next frame found.
#[derive(Debug)]
pub enum Frame {
    Json(Value),
    Close(Option<u16>),
    Other(Message),
}

impl Client {
    pub fn from_ws(ws: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Client {
        Client {
            ws,
            events: VecDeque::new(),
            next_id: 0,
            challenge: Value::Null,
        }
    }

    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.ws.send(Message::text(text.into())).await.unwrap();
    }

    pub async fn send_json(&mut self, v: &Value) {
        self.send_text(v.to_string()).await;
    }

    /// The next frame, or a panic after [`WAIT`].
    pub async fn next_frame(&mut self) -> Frame {
        match tokio::time::timeout(WAIT, self.ws.next())
            .await
            .expect("timed out waiting for a frame")
        {
            None => Frame::Close(None),
            Some(Err(_)) => Frame::Close(None),
            Some(Ok(Message::Text(t))) => Frame::Json(serde_json::from_str(t.as_str()).unwrap()),
            Some(Ok(Message::Close(f))) => Frame::Close(f.map(|f| u16::from(f.code))),
            Some(Ok(other)) => Frame::Other(other),
        }
    }

    /// The next JSON frame (pings/pongs skipped).
    pub async fn next_json(&mut self) -> Value {
        loop {
            match self.next_frame().await {
                Frame::Json(v) => return v,
                Frame::Other(_) => continue,
                Frame::Close(c) => panic!("socket closed ({c:?}) while waiting for a frame"),
            }
        }
    }

    pub async fn read_challenge(&mut self) -> Value {
        let v = self.next_json().await;
        assert_eq!(
            v["event"], "connect.challenge",
            "first frame must be the challenge: {v}"
        );
        self.challenge = v.clone();
        v
    }

    pub fn nonce(&self) -> String {
        self.challenge["payload"]["nonce"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Sends a connect request and returns its response frame.
    pub async fn connect(&mut self, params: Value) -> Value {
        self.call_frame("connect", params).await
    }

    /// Sends a request and returns the whole response frame; events seen meanwhile are kept.
    pub async fn call_frame(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = format!("r{}", self.next_id);
        self.send_json(&json!({"type": "req", "id": id, "method": method, "params": params}))
            .await;
        self.response_for(&id).await
    }

    /// Sends a request without waiting; returns its id (read the answer with `response_for`).
    pub async fn call_frame_id(&mut self, method: &str, params: Value) -> String {
        self.next_id += 1;
        let id = format!("r{}", self.next_id);
        self.send_json(&json!({"type": "req", "id": id, "method": method, "params": params}))
            .await;
        id
    }

    pub async fn response_for(&mut self, id: &str) -> Value {
        loop {
            let v = self.next_json().await;
            if v["type"] == "res" && v["id"] == id {
                return v;
            }
            if v["type"] == "event" {
                self.events.push_back(v);
            }
        }
    }

    /// The payload of a successful call (panics with the error otherwise).
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let res = self.call_frame(method, params).await;
        assert_eq!(res["ok"], true, "{method} failed: {res}");
        res["payload"].clone()
    }

    /// The error object of a failed call.
    pub async fn call_err(&mut self, method: &str, params: Value) -> Value {
        let res = self.call_frame(method, params).await;
        assert_eq!(res["ok"], false, "{method} should have failed: {res}");
        res["error"].clone()
    }

    /// The next event named `name` (buffered ones first); other events are kept.
    pub async fn next_event(&mut self, name: &str) -> Value {
        if let Some(pos) = self.events.iter().position(|e| e["event"] == name) {
            return self.events.remove(pos).unwrap();
        }
        loop {
            let v = self.next_json().await;
            if v["type"] == "event" && v["event"] == name {
                return v;
            }
            if v["type"] == "event" {
                self.events.push_back(v);
            }
        }
    }

    /// Every `chat` event of `run_id` up to and including its terminal one.
    pub async fn run_events(&mut self, run_id: &str) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let ev = self.next_event("chat").await;
            if ev["payload"]["runId"] != run_id {
                continue;
            }
            let terminal = ev["payload"]["state"] != "delta";
            out.push(ev);
            if terminal {
                return out;
            }
        }
    }

    /// Reads until the server closes; returns the close code (None when the TCP connection
    /// ended without a close frame).
    pub async fn expect_close(&mut self) -> Option<u16> {
        loop {
            match self.next_frame().await {
                Frame::Close(c) => return c,
                Frame::Json(_) | Frame::Other(_) => continue,
            }
        }
    }
}

/// One protocol-3 and one protocol-4 client on a read+write key.
pub async fn both(srv: &TestServer) -> [(Client, &'static str); 2] {
    both_with_key(srv, &srv.rw_key()).await
}

/// One protocol-3 and one protocol-4 client on `key`.
pub async fn both_with_key(srv: &TestServer, key: &str) -> [(Client, &'static str); 2] {
    let (c3, _) = srv.client_v3(key).await;
    let (c4, _) = srv.client_v4(key).await;
    [(c3, "v3"), (c4, "v4")]
}

/// Asserts that `v` has every key.
pub fn has_keys(v: &Value, keys: &[&str]) {
    for k in keys {
        assert!(v.get(*k).is_some(), "missing {k} in {v}");
    }
}
