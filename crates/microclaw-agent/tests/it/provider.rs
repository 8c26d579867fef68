//! A real local OpenAI-compatible provider: an axum server on 127.0.0.1:0 that streams
//! chat-completions SSE as each test scripts it, and records the requests it received.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub type Reply = Pin<Box<dyn Future<Output = Response> + Send>>;
/// (request body, 0-based request number) → response.
pub type Handler = Arc<dyn Fn(Value, usize) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    handler: Handler,
    requests: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

pub struct Provider {
    pub base_url: String,
    pub requests: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

impl Provider {
    pub fn count(&self) -> usize {
        self.requests.lock().len()
    }
    pub fn body(&self, i: usize) -> Value {
        self.requests.lock()[i].1.clone()
    }
    pub fn header(&self, i: usize, name: &str) -> Option<String> {
        self.requests.lock()[i]
            .0
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

async fn completions(
    State(s): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let n = {
        let mut reqs = s.requests.lock();
        reqs.push((headers, body.clone()));
        reqs.len() - 1
    };
    (s.handler)(body, n).await
}

pub async fn spawn(handler: Handler) -> Provider {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(Shared {
            handler,
            requests: requests.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Provider {
        base_url: format!("http://{addr}/v1"),
        requests,
    }
}

/// A handler from a plain function (no awaiting).
pub fn handler(f: impl Fn(Value, usize) -> Response + Send + Sync + 'static) -> Handler {
    Arc::new(move |body, n| {
        let r = f(body, n);
        Box::pin(async move { r })
    })
}

/// Sets a flag when dropped: tells a test the server stopped streaming (client went away).
pub struct DropFlag(pub Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum Ending {
    /// `data: [DONE]` then close.
    Done,
    /// Break the connection after the events (no [DONE], no finish_reason).
    Cut,
}

/// A streaming SSE response of `data:` events, `delay` apart.
pub fn sse(
    events: Vec<String>,
    delay: Duration,
    ending: Ending,
    flag: Option<Arc<AtomicBool>>,
) -> Response {
    let mut lines: VecDeque<String> = events
        .into_iter()
        .map(|e| format!("data: {e}\n\n"))
        .collect();
    if ending == Ending::Done {
        lines.push_back("data: [DONE]\n\n".into());
    }
    let guard = flag.map(DropFlag);
    let stream = futures_util::stream::unfold(
        (lines, guard, false),
        move |(mut lines, guard, failed)| async move {
            if failed {
                return None;
            }
            tokio::time::sleep(delay).await;
            match lines.pop_front() {
                Some(l) => Some((Ok::<String, std::io::Error>(l), (lines, guard, false))),
                None if ending == Ending::Cut => Some((
                    Err(std::io::Error::other("connection cut by test provider")),
                    (lines, guard, true),
                )),
                None => None,
            }
        },
    );
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    resp
}

pub fn delta(text: &str) -> String {
    json!({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
        .to_string()
}

pub fn finish() -> String {
    json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}).to_string()
}

pub fn usage(prompt: u64, completion: u64) -> String {
    json!({"choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion}})
        .to_string()
}

pub fn tool_call_fragment(id: Option<&str>, name: Option<&str>, args: &str) -> String {
    let mut call = json!({"index": 0, "function": {"arguments": args}});
    if let Some(id) = id {
        call["id"] = json!(id);
        call["type"] = json!("function");
    }
    if let Some(name) = name {
        call["function"]["name"] = json!(name);
    }
    json!({"choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": null}]})
        .to_string()
}

pub fn status(code: u16, headers: &[(&'static str, &str)], body: Value) -> Response {
    let mut resp = (StatusCode::from_u16(code).unwrap(), Json(body)).into_response();
    for (k, v) in headers {
        resp.headers_mut().insert(*k, v.parse().unwrap());
    }
    resp
}
