//! Shared helpers for the HTTP API conformance suite: a real gateway on 127.0.0.1:0 over a temp
//! data dir, credentials made through the engine, and a small request helper that returns
//! status, headers and the parsed JSON body (every request is bounded by a timeout).
#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use microclaw_core::{Config, SharedClock};
use microclaw_engine::{Engine, EngineOptions};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub const WAIT: Duration = Duration::from_secs(20);
pub const PASSWORD: &str = "correct horse battery";

pub struct Api {
    pub addr: SocketAddr,
    pub engine: Arc<Engine>,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Api {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Starts the real gateway with the default config changed by `tweak`.
pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Api {
    start_full(tweak, None).await
}

pub async fn start() -> Api {
    start_with(|_| {}).await
}

/// Starts the gateway with a config tweak and an optional test clock.
pub async fn start_full(tweak: impl FnOnce(&mut Config), clock: Option<SharedClock>) -> Api {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    tweak(&mut config);
    // A fresh subdirectory: the engine creates it private (0700), as on a real first start.
    let engine = Engine::open(EngineOptions {
        data_dir: dir.path().join("data"),
        config,
        clock,
    })
    .unwrap();
    engine.start_background();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(microclaw_gateway::serve(listener, engine.clone(), async {
        let _ = rx.await;
    }));
    let client = reqwest::Client::builder().timeout(WAIT).build().unwrap();
    Api {
        addr,
        engine,
        client,
        dir,
        stop: Some(tx),
    }
}

/// A credential kind a request is sent with.
#[derive(Debug, Clone)]
pub enum Cred {
    None,
    Bearer(String),
    /// The login cookies; `csrf` is sent as `x-csrf-token` when present.
    Cookie {
        session: String,
        csrf_cookie: String,
        csrf_header: Option<String>,
    },
}

impl Cred {
    pub fn bearer(k: &str) -> Cred {
        Cred::Bearer(k.to_string())
    }
}

/// A response: status, headers, raw text and the body parsed as JSON (Null if not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }

    /// Asserts the spec's error shape `{"ok":false,"error":{code,message}}` with `status`/`code`.
    pub fn assert_error(&self, status: u16, code: &str, why: &str) {
        assert_eq!(self.status, status, "{why}: body {}", self.text);
        assert_json_error(self, why);
        assert_eq!(
            self.json["error"]["code"], code,
            "{why}: body {}",
            self.text
        );
    }

    pub fn message(&self) -> String {
        self.json["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

/// Every error body is JSON `{"ok":false,"error":{"code":"…","message":"…"}}`, never HTML.
pub fn assert_json_error(r: &Resp, why: &str) {
    let ct = r.header("content-type").unwrap_or_default();
    assert!(
        ct.starts_with("application/json"),
        "{why}: errors are JSON, got content-type '{ct}' and body {:?}",
        r.text
    );
    assert_eq!(r.json["ok"], false, "{why}: body {}", r.text);
    assert!(
        r.json["error"]["code"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{why}: error.code is a non-empty string: {}",
        r.text
    );
    assert!(
        r.json["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{why}: error.message is a non-empty string: {}",
        r.text
    );
}

/// Value of cookie `name` among `Set-Cookie` headers.
pub fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies.iter().find_map(|c| {
        let first = c.split(';').next()?;
        let (k, v) = first.split_once('=')?;
        (k.trim() == name).then(|| v.trim().to_string())
    })
}

impl Api {
    /// The engine's data dir (`<tempdir>/data`).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.engine.data_dir().to_path_buf()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A new API key with these scopes (e.g. `["operator.read"]`).
    pub fn key(&self, scopes: &[&str]) -> String {
        self.key_full(scopes).1
    }

    /// (id, raw key).
    pub fn key_full(&self, scopes: &[&str]) -> (i64, String) {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let k = microclaw_engine::ops::auth::key_create_blocking(
            &self.engine,
            "test",
            "http-test",
            &scopes,
            None,
        )
        .unwrap();
        (k.id, k.api_key)
    }

    pub fn admin_key(&self) -> String {
        self.key(&["operator.admin"])
    }

    pub fn set_password(&self, pw: &str) {
        microclaw_engine::ops::auth::set_password_blocking(&self.engine, pw).unwrap();
    }

    /// Logs in with `pw`; returns the cookie credential (with CSRF header) and the response.
    pub async fn login(&self, pw: &str) -> (Cred, Resp) {
        let r = self
            .send(
                Method::POST,
                "/api/auth/login",
                &Cred::None,
                Some(serde_json::json!({"password": pw})),
            )
            .await;
        assert_eq!(r.status, 200, "login with the right password: {}", r.text);
        let cookies = r.set_cookies();
        let session = cookie_value(&cookies, "mc_session").expect("mc_session cookie");
        let csrf = cookie_value(&cookies, "mc_csrf").expect("mc_csrf cookie");
        (
            Cred::Cookie {
                session,
                csrf_cookie: csrf.clone(),
                csrf_header: Some(csrf),
            },
            r,
        )
    }

    /// A request builder with `cred` applied.
    pub fn request(&self, method: Method, path: &str, cred: &Cred) -> reqwest::RequestBuilder {
        let b = self.client.request(method, self.url(path));
        match cred {
            Cred::None => b,
            Cred::Bearer(k) => b.header("authorization", format!("Bearer {k}")),
            Cred::Cookie {
                session,
                csrf_cookie,
                csrf_header,
            } => {
                let b = b.header(
                    "cookie",
                    format!("mc_session={session}; mc_csrf={csrf_cookie}"),
                );
                match csrf_header {
                    Some(c) => b.header("x-csrf-token", c),
                    None => b,
                }
            }
        }
    }

    /// Sends a request with an optional JSON body and reads the whole response.
    pub async fn send(&self, method: Method, path: &str, cred: &Cred, body: Option<Value>) -> Resp {
        let mut b = self.request(method, path, cred);
        if let Some(v) = body {
            b = b.json(&v);
        }
        read(b).await
    }

    pub async fn get(&self, path: &str, cred: &Cred) -> Resp {
        self.send(Method::GET, path, cred, None).await
    }

    pub async fn post(&self, path: &str, cred: &Cred, body: Value) -> Resp {
        self.send(Method::POST, path, cred, Some(body)).await
    }

    /// True when the server still answers `GET /api/health` with 200.
    pub async fn healthy(&self) -> bool {
        self.get("/api/health", &Cred::None).await.status == 200
    }
}

/// Sends a prepared request and reads status, headers and body.
pub async fn read(b: reqwest::RequestBuilder) -> Resp {
    let r = tokio::time::timeout(WAIT, b.send())
        .await
        .expect("request finished in time")
        .expect("request sent");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        json,
    }
}
