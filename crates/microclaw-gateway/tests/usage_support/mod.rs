//! Shared by the usage and budget suites: a real OpenAI-compatible provider on 127.0.0.1:0
//! that streams each reply as the test scripts it (text pieces, a delay between them, the
//! provider `usage` or none), and the real gateway on a manual engine clock.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
#![allow(dead_code)]

use crate::common::{Client, WAIT};
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use microclaw_core::clock::ManualClock;
use microclaw_core::config::{AgentBackendConfig, ModelPrice};
use microclaw_core::Config;
use microclaw_engine::{Engine, EngineOptions};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// One scripted reply.
#[derive(Clone)]
pub struct Script {
    pub pieces: Vec<String>,
    pub delay: Duration,
    /// `(prompt_tokens, completion_tokens)` sent after the text; `None` = no usage at all.
    pub usage: Option<(u64, u64)>,
    /// Read-only tool calls (`sessions_list`) the reply asks for instead of finishing.
    pub tools: usize,
}

impl Script {
    pub fn text(text: &str, usage: Option<(u64, u64)>) -> Script {
        Script {
            pieces: vec![text.to_string()],
            delay: Duration::from_millis(0),
            usage,
            tools: 0,
        }
    }
    /// A reply that asks for `n` tool calls at once.
    pub fn tool_calls(n: usize) -> Script {
        Script {
            tools: n,
            ..Script::text("", None)
        }
    }
    /// `n` pieces of `piece`, `delay` apart (a long streamed reply).
    pub fn long(piece: &str, n: usize, delay: Duration) -> Script {
        Script {
            pieces: vec![piece.to_string(); n],
            delay,
            usage: None,
            tools: 0,
        }
    }
}

#[derive(Clone, Default)]
pub struct Provider {
    pub base_url: String,
    pub scripts: Arc<Mutex<VecDeque<Script>>>,
    pub requests: Arc<Mutex<usize>>,
}

impl Provider {
    pub fn push(&self, s: Script) {
        self.scripts.lock().push_back(s);
    }
}

fn chunk(v: Value) -> String {
    format!("data: {v}\n\n")
}

async fn completions(State(p): State<Provider>, Json(_body): Json<Value>) -> Response {
    *p.requests.lock() += 1;
    let script = p
        .scripts
        .lock()
        .pop_front()
        .unwrap_or_else(|| Script::text("ok", Some((1, 1))));
    let mut lines: VecDeque<String> = script
        .pieces
        .iter()
        .map(|t| {
            chunk(
                json!({"choices": [{"index": 0, "delta": {"content": t}, "finish_reason": null}]}),
            )
        })
        .collect();
    for i in 0..script.tools {
        let call = json!({"index": i, "id": format!("call_{i}"), "type": "function",
                          "function": {"name": "sessions_list", "arguments": "{}"}});
        lines.push_back(chunk(
            json!({"choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": null}]}),
        ));
    }
    let finish = if script.tools > 0 {
        "tool_calls"
    } else {
        "stop"
    };
    lines.push_back(chunk(
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}),
    ));
    if let Some((i, o)) = script.usage {
        lines.push_back(chunk(json!({"choices": [], "usage": {
            "prompt_tokens": i, "completion_tokens": o, "total_tokens": i + o}})));
    }
    lines.push_back("data: [DONE]\n\n".into());
    let delay = script.delay;
    let stream = futures_util::stream::unfold(lines, move |mut lines| async move {
        let l = lines.pop_front()?;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Some((Ok::<String, std::io::Error>(l), lines))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    resp
}

pub async fn provider() -> Provider {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let p = Provider {
        base_url: format!("http://{addr}/v1"),
        ..Provider::default()
    };
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(p.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    p
}

/// 2026-12-01T12:00:00Z: the daily window resets 12 h later (UTC).
pub const NOON_MS: i64 = 1_796_126_400_000;
pub const PRICED_MODEL: &str = "priced-model";

/// Agent `paid` (default; model `priced-model`, $2 / $10 per Mtok) and agent `free` (model
/// `unpriced-model`, no price), both on `base_url`.
pub fn config(base_url: &str) -> Config {
    let mut c = Config::default();
    for (id, model) in [("paid", PRICED_MODEL), ("free", "unpriced-model")] {
        c.agents.backends.insert(
            id.into(),
            AgentBackendConfig {
                base_url: base_url.to_string(),
                model: model.into(),
                max_retries: 0,
                ..AgentBackendConfig::default()
            },
        );
    }
    c.agents.default = "paid".into();
    c.pricing.insert(
        PRICED_MODEL.into(),
        ModelPrice {
            input_per_mtok: 2.0,
            output_per_mtok: 10.0,
        },
    );
    c
}

pub struct Gateway {
    pub addr: SocketAddr,
    pub engine: Arc<Engine>,
    pub clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub async fn gateway(config: Config) -> Gateway {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(NOON_MS));
    let engine = Engine::open(EngineOptions {
        data_dir: dir.path().to_path_buf(),
        config,
        clock: Some(clock.clone()),
    })
    .unwrap();
    let (addr, tx) = crate::common::serve_on_loopback(engine.clone()).await;
    Gateway {
        addr,
        engine,
        clock,
        _dir: dir,
        stop: Some(tx),
    }
}

impl Gateway {
    pub fn key(&self, scopes: &[&str]) -> String {
        crate::common::api_key(&self.engine, "usage-test", scopes)
    }

    /// A connected client (protocol 3 when `v3`, else 4) on a key with `scopes`.
    pub async fn client(&self, scopes: &[&str], v3: bool) -> Client {
        let token = self.key(scopes);
        let url = format!("ws://{}/", self.addr);
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .unwrap()
            .unwrap();
        let mut c = Client::from_ws(ws);
        c.read_challenge().await;
        let params = if v3 {
            json!({"minProtocol": 3, "maxProtocol": 3, "auth": {"token": token}})
        } else {
            crate::common::openclaw_connect(&token, Some(scopes))
        };
        let res = c.connect(params).await;
        assert_eq!(res["ok"], true, "connect failed: {res}");
        c
    }

    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Sends `message` with `chat.send` and returns the run's `chat` events up to its terminal one.
pub async fn run(c: &mut Client, session: &str, message: &str) -> Vec<Value> {
    let res = c
        .call(
            "chat.send",
            json!({"sessionKey": session, "message": message}),
        )
        .await;
    let run_id = res["runId"].as_str().unwrap().to_string();
    c.run_events(&run_id).await
}
