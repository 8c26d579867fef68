//! Fleet (operations.md §5): a second gateway of ours on a loopback port, registered on the
//! console over HTTP, probed (up, version, protocol, sessions), browsed through the call route,
//! reported down when stopped and up again when restarted on the same port, auth_failed with a
//! wrong token, an alert after N down probes; the token never appears in a response, a log line
//! or the database file.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;
mod http_common;

use http_common::{Api, Cred};
use microclaw_core::Config;
use microclaw_engine::{Engine, EngineOptions};
use reqwest::Method;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// A gateway of ours that can be stopped and started again on the same port and data dir.
struct Remote {
    addr: SocketAddr,
    engine: Arc<Engine>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start_remote(dir: &Path, addr: Option<SocketAddr>) -> Remote {
    let engine = Engine::open(EngineOptions {
        data_dir: dir.to_path_buf(),
        config: Config::default(),
        clock: None,
    })
    .unwrap();
    let bind = addr.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap());
    let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(microclaw_gateway::serve(listener, engine.clone(), async {
        let _ = rx.await;
    }));
    Remote {
        addr,
        engine,
        stop: Some(tx),
        task,
    }
}

impl Remote {
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = tokio::time::timeout(http_common::WAIT, self.task).await;
    }
}

fn remote_key(engine: &Engine, scopes: &[&str]) -> String {
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    microclaw_engine::ops::auth::key_create_blocking(engine, "fleet", "test", &scopes, None)
        .unwrap()
        .api_key
}

async fn console(tweak: impl FnOnce(&mut Config)) -> Api {
    http_common::start_with(|c| {
        c.fleet.token_store = "file".into();
        // The schedule stays out of the way: the test probes on demand.
        c.fleet.probe_interval_ms = 3_600_000;
        c.fleet.probe_timeout_ms = 3_000;
        c.fleet.down_alert_after = 2;
        tweak(c);
    })
    .await
}

/// A bridge client of the console (protocol 3, token only).
async fn bridge(addr: SocketAddr, key: &str) -> common::Client {
    let url = format!("ws://{addr}/");
    let (ws, _) = tokio::time::timeout(common::WAIT, tokio_tungstenite::connect_async(url))
        .await
        .unwrap()
        .unwrap();
    let mut c = common::Client::from_ws(ws);
    c.read_challenge().await;
    let res = c
        .connect(json!({"minProtocol": 3, "maxProtocol": 3, "auth": {"token": key}}))
        .await;
    assert_eq!(res["ok"], true, "{res}");
    c
}

/// Every byte of the console's database files, as text (lossy).
fn db_bytes(dir: &Path) -> String {
    let mut all = Vec::new();
    for name in ["microclaw.db", "microclaw.db-wal"] {
        if let Ok(b) = std::fs::read(dir.join(name)) {
            all.extend(b);
        }
    }
    String::from_utf8_lossy(&all).into_owned()
}

fn log_text(engine: &Engine) -> String {
    let tail = engine.log_ring().tail(None, 100_000, 64 << 20);
    serde_json::to_string(&tail.lines).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_gateway_is_probed_browsed_downed_restarted_and_its_token_stays_secret() {
    let ring = microclaw_engine::log_ring::install_process_ring();
    let _ = tracing::subscriber::set_global_default(microclaw_engine::log_ring::subscriber(
        ring.clone(),
    ));
    let remote_dir = tempfile::tempdir().unwrap();
    let remote = start_remote(remote_dir.path(), None).await;
    let token = remote_key(&remote.engine, &["operator.read", "operator.write"]);
    for (i, text) in ["hello fleet", "second"].iter().enumerate() {
        let t = text.to_string();
        remote
            .engine
            .store()
            .write_async(move |s| s.message_append("agent:main:fleet", "user", &t, i as i64 + 1))
            .await
            .unwrap();
    }

    let api = console(|_| {}).await;
    let admin = Cred::bearer(&api.admin_key());
    let reader = Cred::bearer(&api.key(&["operator.read"]));
    let mut responses = Vec::<String>::new();

    // Registering needs admin; the token is not in the answer.
    let url = format!("ws://{}/", remote.addr);
    let body = json!({"name": "lab", "url": url, "token": token, "extra": "ignored"});
    let denied = api.post("/api/gateways", &reader, body.clone()).await;
    denied.assert_error(403, "FORBIDDEN", "a read key cannot add a gateway");
    let added = api.post("/api/gateways", &admin, body).await;
    assert_eq!(added.status, 200, "{}", added.text);
    assert_eq!(added.json["tokenStore"], "file");
    assert_eq!(added.json["status"], "unknown");
    let id = added.json["id"].as_i64().unwrap();
    responses.push(added.text.clone());

    // Probed: up, version, protocol, sessions, kind.
    let probed = api
        .post(&format!("/api/gateways/{id}/probe"), &admin, json!({}))
        .await;
    assert_eq!(probed.status, 200, "{}", probed.text);
    let g = &probed.json;
    assert_eq!(g["status"], "up", "{g}");
    assert_eq!(g["version"], microclaw_core::VERSION);
    assert_eq!(g["protocol"], 4);
    assert_eq!(g["sessionCount"], 1);
    assert_eq!(g["kind"], "microclaw");
    assert!(g["latencyMs"].as_i64().unwrap() >= 0);
    eprintln!("loopback probe latency: {} ms", g["latencyMs"]);
    responses.push(probed.text.clone());

    // Listed after the local engine.
    let list = api.get("/api/gateways", &reader).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let rows = list.json["gateways"].as_array().unwrap();
    assert_eq!(rows[0]["local"], true);
    assert_eq!(rows[1]["id"], id);
    assert_eq!(rows[1]["status"], "up");
    responses.push(list.text.clone());

    // Browsed through the call route with a read key: sessions and a transcript.
    let call = |method: &str, params: Value| json!({"method": method, "params": params});
    let path = format!("/api/gateways/{id}/call");
    let sessions = api
        .post(&path, &reader, call("sessions.list", json!({})))
        .await;
    assert_eq!(sessions.status, 200, "{}", sessions.text);
    let listed = sessions.json["payload"]["sessions"].as_array().unwrap();
    assert_eq!(listed[0]["key"], "agent:main:fleet", "{}", sessions.text);
    let history = api
        .post(
            &path,
            &reader,
            call("chat.history", json!({"sessionKey": "agent:main:fleet"})),
        )
        .await;
    assert_eq!(history.status, 200, "{}", history.text);
    assert!(history.text.contains("hello fleet"), "{}", history.text);
    responses.push(sessions.text.clone());
    responses.push(history.text.clone());
    // A write method needs admin on the console, whatever the remote token allows.
    let send = call(
        "chat.send",
        json!({"sessionKey": "agent:main:fleet", "message": "hi"}),
    );
    api.post(&path, &reader, send.clone()).await.assert_error(
        403,
        "FORBIDDEN",
        "forwarding a write method needs admin",
    );
    // The remote's own errors come back named.
    let unknown = api
        .post(&path, &admin, call("no.such.method", json!({})))
        .await;
    assert!(unknown.status >= 400, "{}", unknown.text);
    assert!(unknown.message().contains("gateway"), "{}", unknown.text);

    // Stopped: down (twice: the alert fires once), with the last error.
    let port = remote.addr;
    remote.stop().await;
    let mut ws = bridge(api.addr, &api.key(&["operator.read"])).await;
    for n in 1..=2 {
        let down = api
            .post(&format!("/api/gateways/{id}/probe"), &admin, json!({}))
            .await;
        assert_eq!(down.json["status"], "down", "{}", down.text);
        assert_eq!(down.json["downProbes"], n);
        assert!(
            down.json["lastError"].as_str().unwrap().contains("connect"),
            "{}",
            down.text
        );
        responses.push(down.text.clone());
    }
    let alert = ws.next_event("gateway.alert").await;
    assert_eq!(alert["payload"]["state"], "firing", "{alert}");
    assert_eq!(alert["payload"]["id"], id);
    let audit = api.get("/api/audit?kind=gateway.down", &admin).await;
    assert!(audit.text.contains("gateway.down"), "{}", audit.text);

    // Restarted on the same port: up again, and the alert resolves.
    let remote = start_remote(remote_dir.path(), Some(port)).await;
    let up = api
        .post(&format!("/api/gateways/{id}/probe"), &admin, json!({}))
        .await;
    assert_eq!(up.json["status"], "up", "{}", up.text);
    assert_eq!(up.json["downProbes"], 0);
    let resolved = ws.next_event("gateway.alert").await;
    assert_eq!(resolved["payload"]["state"], "resolved", "{resolved}");

    // History kept, oldest first: up, down, down, up.
    let hist = api
        .get(&format!("/api/gateways/{id}/history"), &reader)
        .await;
    let states: Vec<&str> = hist.json["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["up", "down", "down", "up"], "{}", hist.text);

    // A wrong token: auth_failed, with the remote's reason.
    let wrong = "mk_0123456789abcdef0123456789abcdef";
    let patched = api
        .send(
            Method::PATCH,
            &format!("/api/gateways/{id}"),
            &admin,
            Some(json!({"token": wrong})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let failed = api
        .post(&format!("/api/gateways/{id}/probe"), &admin, json!({}))
        .await;
    assert_eq!(failed.json["status"], "auth_failed", "{}", failed.text);
    assert!(
        failed.json["lastError"]
            .as_str()
            .unwrap()
            .contains("invalid API key"),
        "{}",
        failed.text
    );
    let refused = api
        .post(&path, &reader, call("sessions.list", json!({})))
        .await;
    refused.assert_error(403, "FORBIDDEN", "the remote refused the token");
    responses.push(failed.text.clone());
    responses.push(refused.text.clone());

    // The tokens appear in no response, no log line, nowhere in the database in clear.
    let logs = log_text(&api.engine);
    assert!(
        logs.contains("fleet: gateway"),
        "the fleet logged its alert: {logs}"
    );
    for secret in [token.as_str(), wrong] {
        for r in &responses {
            assert!(!r.contains(secret), "a response carries the token: {r}");
        }
        assert!(!logs.contains(secret), "a log line carries the token");
        assert!(
            !db_bytes(api.engine.data_dir()).contains(secret),
            "the database holds the token in clear"
        );
    }

    // Removed (admin), then gone.
    let gone = api
        .send(Method::DELETE, &format!("/api/gateways/{id}"), &admin, None)
        .await;
    assert_eq!(gone.status, 200, "{}", gone.text);
    api.get(&format!("/api/gateways/{id}"), &reader)
        .await
        .assert_error(404, "NOT_FOUND", "a removed gateway");
    remote.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_named_and_the_bridge_methods_follow_the_scope_table() {
    let api = console(|_| {}).await;
    let admin = Cred::bearer(&api.admin_key());
    for (body, why) in [
        (
            json!({"name": "x", "url": "ftp://h:1", "token": "t"}),
            "ws://",
        ),
        (json!({"name": "", "url": "ws://h:1", "token": "t"}), "name"),
        (
            json!({"name": "x", "url": "ws://h:1", "token": " "}),
            "token",
        ),
        (
            json!({"name": "x", "url": "ws://h:1", "token": "t", "kind": "cluster"}),
            "kind",
        ),
    ] {
        let r = api.post("/api/gateways", &admin, body).await;
        r.assert_error(400, "INVALID_REQUEST", why);
        assert!(r.message().contains(why), "{why}: {}", r.text);
    }
    api.get("/api/gateways/abc", &admin).await.assert_error(
        400,
        "INVALID_REQUEST",
        "a non-numeric id",
    );

    // Over the bridge: a read key lists but cannot add.
    let mut c = bridge(api.addr, &api.key(&["operator.read"])).await;
    let list = c.call("gateways.list", json!({})).await;
    assert_eq!(list["gateways"][0]["local"], true);
    let err = c
        .call_err(
            "gateways.add",
            json!({"name": "x", "url": "ws://127.0.0.1:9/", "token": "t"}),
        )
        .await;
    assert_eq!(err["code"], "FORBIDDEN", "{err}");
    let mut a = bridge(api.addr, &api.admin_key()).await;
    let g = a
        .call(
            "gateways.add",
            json!({"name": "nobody", "url": "ws://127.0.0.1:9/", "token": "t"}),
        )
        .await;
    let probed = a.call("gateways.probe", json!({"id": g["id"]})).await;
    assert_eq!(probed["status"], "down", "{probed}");
    assert!(!probed.to_string().contains("\"t\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_prober_probes_on_its_own_within_its_interval() {
    let remote_dir = tempfile::tempdir().unwrap();
    let remote = start_remote(remote_dir.path(), None).await;
    let token = remote_key(&remote.engine, &["operator.read"]);
    let api = console(|c| c.fleet.probe_interval_ms = 100).await;
    let admin = Cred::bearer(&api.admin_key());
    let url = format!("ws://{}/", remote.addr);
    let added = api
        .post(
            "/api/gateways",
            &admin,
            json!({"name": "auto", "url": url, "token": token}),
        )
        .await;
    let id = added.json["id"].as_i64().unwrap();
    let deadline = tokio::time::Instant::now() + http_common::WAIT;
    loop {
        let g = api.get(&format!("/api/gateways/{id}"), &admin).await;
        if g.json["status"] == "up" && g.json["sessionCount"] == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never probed: {}",
            g.text
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    remote.stop().await;
}
