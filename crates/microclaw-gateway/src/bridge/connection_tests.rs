//! The connection logic over in-memory channels (no socket): keep-alive timing with short
//! limits, which a real-socket test could only check in minutes.

use super::connection::run_connection;
use super::limits::Limits;
use super::ConnContext;
use axum::extract::ws::Message;
use futures_util::StreamExt;
use microclaw_engine::{Engine, EngineOptions};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

struct Harness {
    to_server: mpsc::Sender<Result<Message, String>>,
    from_server: mpsc::Receiver<Message>,
    _dir: tempfile::TempDir,
}

async fn start(tweak: impl FnOnce(&mut Limits)) -> (Harness, Arc<Engine>) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineOptions {
        data_dir: dir.path().into(),
        config: Default::default(),
        clock: None,
    })
    .unwrap();
    let mut limits = Limits::from_config(&engine.config().server);
    tweak(&mut limits);
    let (to_server, rx) = mpsc::channel::<Result<Message, String>>(64);
    let (tx, from_server) = mpsc::channel::<Message>(256);
    let sink = Box::pin(futures_util::sink::unfold(
        tx,
        |tx, m: Message| async move {
            tx.send(m).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(tx)
        },
    ));
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) })
            .boxed();
    let ctx = ConnContext {
        peer: "127.0.0.1:9".parse().unwrap(),
        cookie_principal: None,
        remote_host: "test".into(),
        slot: None,
        foreign_origin: None,
    };
    tokio::spawn(run_connection(engine.clone(), sink, stream, ctx, limits));
    (
        Harness {
            to_server,
            from_server,
            _dir: dir,
        },
        engine,
    )
}

impl Harness {
    async fn next(&mut self) -> Message {
        tokio::time::timeout(Duration::from_secs(5), self.from_server.recv())
            .await
            .unwrap()
            .unwrap()
    }
    async fn next_json(&mut self) -> Value {
        match self.next().await {
            Message::Text(t) => serde_json::from_str(t.as_str()).unwrap(),
            other => panic!("expected text, got {other:?}"),
        }
    }
    async fn send(&self, v: Value) {
        self.to_server
            .send(Ok(Message::Text(v.to_string().into())))
            .await
            .unwrap();
    }
}

async fn connected(tweak: impl FnOnce(&mut Limits)) -> Harness {
    let (mut h, engine) = start(tweak).await;
    let key = microclaw_engine::ops::auth::key_create_blocking(
        &engine,
        "t",
        "t",
        &["operator.read".into()],
        None,
    )
    .unwrap()
    .api_key;
    assert_eq!(h.next_json().await["event"], "connect.challenge");
    h.send(json!({"type":"req","id":"c","method":"connect","params":{"minProtocol":3,"maxProtocol":3,"auth":{"token":key}}}))
        .await;
    assert_eq!(h.next_json().await["payload"]["type"], "hello-ok");
    assert_eq!(h.next_json().await["event"], "tick");
    h
}

fn short_keepalive(l: &mut Limits) {
    l.idle_ping = Duration::from_millis(150);
    l.idle_close = Duration::from_millis(450);
}

#[tokio::test]
async fn a_silent_client_is_pinged_then_closed() {
    let mut h = connected(short_keepalive).await;
    let mut saw_ping = false;
    let code = loop {
        match h.next().await {
            Message::Ping(_) => saw_ping = true,
            Message::Close(f) => break f.map(|f| f.code),
            _ => {}
        }
    };
    assert!(saw_ping, "an idle client is pinged before it is dropped");
    assert_eq!(code, Some(1001));
}

#[tokio::test]
async fn a_client_that_answers_pings_stays_connected() {
    let mut h = connected(short_keepalive).await;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1200);
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(100), h.from_server.recv()).await {
            Ok(Some(Message::Ping(p))) => h.to_server.send(Ok(Message::Pong(p))).await.unwrap(),
            Ok(Some(Message::Close(f))) => panic!("closed although pongs were sent: {f:?}"),
            Ok(None) => panic!("connection ended"),
            _ => {}
        }
    }
    h.send(json!({"type":"req","id":"p","method":"ping"})).await;
    loop {
        let v = h.next_json().await;
        if v["id"] == "p" {
            assert_eq!(v["ok"], true);
            break;
        }
    }
}
