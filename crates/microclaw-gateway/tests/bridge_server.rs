//! The listener around the bridge: TCP_NODELAY on accepted sockets, a graceful stop that
//! refuses new connections at once, and the cap on sockets that have not completed connect.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use axum::serve::Listener;
use common::{openclaw_connect, start_with, Client, WAIT};
use microclaw_core::Config;
use microclaw_engine::{Engine, EngineOptions};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test]
async fn accepted_sockets_have_tcp_nodelay() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut accepting = microclaw_gateway::accepting(listener);
    let client = tokio::spawn(tokio::net::TcpStream::connect(addr));
    let (io, _) = tokio::time::timeout(WAIT, accepting.accept())
        .await
        .unwrap();
    assert!(io.nodelay().unwrap(), "the accepted socket has TCP_NODELAY");
    client.await.unwrap().unwrap();
}

struct Stoppable {
    addr: SocketAddr,
    engine: Arc<Engine>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn start_stoppable(tweak: impl FnOnce(&mut Config)) -> Stoppable {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    tweak(&mut config);
    let engine = Engine::open(EngineOptions {
        data_dir: dir.path().to_path_buf(),
        config,
        clock: None,
    })
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(microclaw_gateway::serve(
        listener,
        engine.clone(),
        async move {
            let _ = rx.await;
        },
    ));
    Stoppable {
        addr,
        engine,
        stop: Some(tx),
        served,
        _dir: dir,
    }
}

#[tokio::test]
async fn a_graceful_stop_refuses_new_connections_at_once_then_drains() {
    let mut srv = start_stoppable(|c| c.server.shutdown_grace_ms = 1500).await;
    let key = microclaw_engine::ops::auth::key_create_blocking(
        &srv.engine,
        "test",
        "bridge-test",
        &["operator.read".into(), "operator.write".into()],
        None,
    )
    .unwrap()
    .api_key;
    let mut c = upgrade(srv.addr).await.unwrap();
    c.read_challenge().await;
    assert_eq!(c.connect(openclaw_connect(&key, None)).await["ok"], true);
    let run = c
        .call(
            "chat.send",
            json!({"sessionKey": "long", "message": "/slow 30"}),
        )
        .await;
    let run_id = run["runId"].as_str().unwrap().to_string();
    let _ = c.next_event("chat").await;
    srv.stop.take().unwrap().send(()).unwrap();
    // Well inside the grace period, while the run still streams: no new connection.
    // (A bounded number of tries, not a timing assertion: the run is still streaming.)
    let mut refused = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        if tokio::net::TcpStream::connect(srv.addr).await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(
        refused,
        "new connections are still accepted during the stop"
    );
    let ev = c.next_event("shutdown").await;
    assert_eq!(ev["payload"]["reason"], "server stopping");
    let events = c.run_events(&run_id).await;
    assert_eq!(
        events.last().unwrap()["payload"]["state"],
        "aborted",
        "the run is ended by the stop, and its end is delivered"
    );
    assert_eq!(c.expect_close().await, Some(1001));
    tokio::time::timeout(Duration::from_secs(10), srv.served)
        .await
        .expect("serve returns once drained")
        .unwrap()
        .unwrap();
}

async fn upgrade(addr: SocketAddr) -> Result<Client, (u16, serde_json::Value)> {
    let url = format!("ws://{addr}/");
    match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
        .await
        .unwrap()
    {
        Ok((ws, _)) => Ok(Client::from_ws(ws)),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let body = resp.body().clone().unwrap_or_default();
            Err((
                resp.status().as_u16(),
                serde_json::from_slice(&body).unwrap_or_default(),
            ))
        }
        Err(e) => panic!("upgrade failed: {e}"),
    }
}

#[tokio::test]
async fn sockets_that_have_not_connected_are_capped() {
    let srv = start_with(|c| c.server.max_unauthenticated_connections = 3).await;
    let mut waiting = Vec::new();
    for _ in 0..3 {
        let mut c = upgrade(srv.addr).await.unwrap();
        c.read_challenge().await;
        waiting.push(c);
    }
    let (status, body) = upgrade(srv.addr).await.err().expect("the 4th is refused");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("UNAVAILABLE"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("server.max_unauthenticated_connections"),
        "{body}"
    );
    // Completing connect frees the place; connected sockets do not count.
    let key = srv.rw_key();
    let res = waiting[0]
        .connect(json!({"minProtocol": 3, "maxProtocol": 3, "auth": {"token": key}}))
        .await;
    assert_eq!(res["ok"], true);
    let mut fourth = upgrade(srv.addr).await.expect("a place was freed");
    fourth.read_challenge().await;
    assert!(upgrade(srv.addr).await.is_err(), "three are waiting again");
    // A socket that goes away frees its place too.
    drop(waiting.pop());
    let deadline = Instant::now() + WAIT;
    loop {
        match upgrade(srv.addr).await {
            Ok(_) => break,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("the closed socket's place was never freed: {e:?}"),
        }
    }
}
