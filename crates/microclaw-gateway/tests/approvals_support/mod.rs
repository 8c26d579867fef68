//! Shared by the approvals suites: a real OpenAI-compatible provider on 127.0.0.1:0 that asks
//! for one tool call per user message and then answers with what the tool returned, and a
//! gateway started on a data dir the test chooses (so a restart can reopen it).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
#![allow(dead_code)]

use crate::common::{openclaw_connect, Client, WAIT};
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use microclaw_core::config::AgentBackendConfig;
use microclaw_core::{Config, SharedClock};
use microclaw_engine::{Engine, EngineOptions};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// Every request body the provider received, in order.
pub type Seen = Arc<Mutex<Vec<Value>>>;

pub struct Provider {
    pub base_url: String,
    pub seen: Seen,
}

impl Provider {
    /// The content of the tool message in the latest request that carries one.
    pub fn last_tool_result(&self) -> Option<String> {
        self.seen.lock().iter().rev().find_map(|body| {
            body["messages"].as_array()?.iter().rev().find_map(|m| {
                (m["role"] == "tool").then(|| m["content"].as_str().unwrap_or("").to_string())
            })
        })
    }
}

fn sse(events: Vec<Value>) -> Response {
    let mut text = String::new();
    for e in events {
        text.push_str(&format!("data: {e}\n\n"));
    }
    text.push_str("data: [DONE]\n\n");
    let mut resp = Response::new(Body::from(text));
    resp.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    resp
}

/// The user message `tool:<name> <json args>` asks for that call; once the conversation holds
/// the tool's result, the reply is `tool said: <result>`.
async fn completions(State(seen): State<Seen>, Json(body): Json<Value>) -> Response {
    seen.lock().push(body.clone());
    let msgs = body["messages"].as_array().cloned().unwrap_or_default();
    let last = msgs.last().cloned().unwrap_or(Value::Null);
    if last["role"] == "tool" {
        let text = format!("tool said: {}", last["content"].as_str().unwrap_or(""));
        return sse(vec![
            json!({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]}),
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        ]);
    }
    let user = last["content"].as_str().unwrap_or("").to_string();
    let Some(rest) = user.strip_prefix("tool:") else {
        return sse(vec![
            json!({"choices": [{"index": 0, "delta": {"content": "no tool"}, "finish_reason": "stop"}]}),
        ]);
    };
    let (name, args) = rest.split_once(' ').unwrap_or((rest, "{}"));
    let call = json!({"index": 0, "id": "call_1", "type": "function",
                      "function": {"name": name, "arguments": args}});
    sse(vec![
        json!({"choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": null}]}),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
    ])
}

pub async fn provider() -> Provider {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Provider {
        base_url: format!("http://{addr}/v1"),
        seen,
    }
}

/// A config whose default agent `ops` talks to `base_url` with these acting tools.
pub fn config(base_url: &str, tools: &[&str], never: &[&str]) -> Config {
    let mut c = Config::default();
    let mut b = AgentBackendConfig {
        base_url: base_url.to_string(),
        model: "test-model".into(),
        tools: tools.iter().map(|t| t.to_string()).collect(),
        ..AgentBackendConfig::default()
    };
    for t in never {
        b.approval.insert(t.to_string(), "never".into());
    }
    c.agents.backends.insert("ops".into(), b);
    c.agents.default = "ops".into();
    c
}

pub struct Gateway {
    pub addr: SocketAddr,
    pub engine: Arc<Engine>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Keys of the user who runs the agent, and of the operator who answers approvals.
pub const RW: &[&str] = &["operator.read", "operator.write"];
pub const APPROVER: &[&str] = &["operator.read", "operator.approvals"];

/// The common scene: the test model server, a gateway whose agent may call `run_command`
/// (always asking), a read/write user and an approvals-only operator, both protocol 4.
pub struct Scene {
    pub p: Provider,
    pub dir: tempfile::TempDir,
    pub gw: Gateway,
    pub user: Client,
    pub approver: Client,
}

pub async fn run_command_scene() -> Scene {
    let p = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), config(&p.base_url, &["run_command"], &[]), None).await;
    let user = gw.client(&gw.key(RW)).await;
    let approver = gw.client(&gw.key(APPROVER)).await;
    Scene {
        p,
        dir,
        gw,
        user,
        approver,
    }
}

/// The real gateway on `dir` (server mode: background loops started, as `microclaw start`).
pub async fn gateway(dir: &Path, config: Config, clock: Option<SharedClock>) -> Gateway {
    let engine = Engine::open(EngineOptions {
        data_dir: dir.to_path_buf(),
        config,
        clock,
    })
    .unwrap();
    engine.start_background();
    let (addr, tx) = crate::common::serve_on_loopback(engine.clone()).await;
    Gateway {
        addr,
        engine,
        stop: Some(tx),
    }
}

impl Gateway {
    pub fn key(&self, scopes: &[&str]) -> String {
        crate::common::api_key(&self.engine, "approvals-test", scopes)
    }

    /// A protocol-4 client on `token` (hello and first tick consumed).
    pub async fn client(&self, token: &str) -> Client {
        let url = format!("ws://{}/", self.addr);
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .unwrap()
            .unwrap();
        let mut c = Client::from_ws(ws);
        c.read_challenge().await;
        let res = c.connect(openclaw_connect(token, None)).await;
        assert_eq!(res["ok"], true, "connect failed: {res}");
        c.next_event("tick").await;
        c
    }
}

/// Sends `message` on `session`; returns the run id.
pub async fn send(c: &mut Client, session: &str, message: &str) -> String {
    let ack = c
        .call(
            "chat.send",
            json!({"sessionKey": session, "message": message, "idempotencyKey": uuid::Uuid::new_v4().to_string()}),
        )
        .await;
    ack["runId"].as_str().unwrap().to_string()
}

/// The text of the run's terminal `chat` event, with its state.
pub async fn final_text(c: &mut Client, run_id: &str) -> (String, String) {
    let evs = c.run_events(run_id).await;
    let last = evs.last().unwrap()["payload"].clone();
    (
        last["state"].as_str().unwrap_or("").to_string(),
        last["message"]["content"][0]["text"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}
