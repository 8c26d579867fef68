//! `cron` bridge events reach read connections (protocol 3 and 4) as the scheduler works: a job
//! added, its due run started and finished, and a dead-lettered run carrying `deadLettered` and
//! `dlqId`. Time is a ManualClock; the runs are real runs of the built-in agent (`/fail`).
#![allow(clippy::unwrap_used)]

mod common;

use common::Client;
use microclaw_core::{Config, ManualClock, SharedClock};
use microclaw_engine::{Engine, EngineOptions};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

// 2026-03-07T12:00:00Z.
const T0: i64 = 1_772_884_800_000;

struct Server {
    addr: SocketAddr,
    engine: Arc<Engine>,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// The real gateway over a temp data dir with the scheduler running on `clock`.
async fn start(clock: &ManualClock) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let shared: SharedClock = Arc::new(clock.clone());
    let engine = Engine::open(EngineOptions {
        data_dir: dir.path().join("data"),
        config: Config::default(),
        clock: Some(shared),
    })
    .unwrap();
    engine.start_background();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(microclaw_gateway::serve(listener, engine.clone(), async {
        let _ = rx.await;
    }));
    Server {
        addr,
        engine,
        _dir: dir,
        _stop: tx,
    }
}

impl Server {
    fn key(&self, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        microclaw_engine::ops::auth::key_create_blocking(&self.engine, "t", "t", &scopes, None)
            .unwrap()
            .api_key
    }

    async fn client(&self, token: &str, v4: bool) -> Client {
        let url = format!("ws://{}/", self.addr);
        let (ws, _) = tokio::time::timeout(common::WAIT, tokio_tungstenite::connect_async(url))
            .await
            .unwrap()
            .unwrap();
        let mut c = Client::from_ws(ws);
        c.read_challenge().await;
        let params = if v4 {
            common::openclaw_connect(token, None)
        } else {
            json!({"minProtocol": 3, "maxProtocol": 3, "auth": {"token": token}})
        };
        let res = c.connect(params).await;
        assert_eq!(res["ok"], true, "connect failed: {res}");
        c
    }
}

/// The next `cron` event whose payload has `action` (earlier other cron events are skipped).
async fn cron_action(c: &mut Client, action: &str) -> Value {
    loop {
        let ev = c.next_event("cron").await;
        if ev["payload"]["action"] == action {
            return ev["payload"].clone();
        }
    }
}

#[tokio::test]
async fn cron_events_reach_read_connections_and_name_the_dead_letter() {
    let clock = ManualClock::new(T0);
    let srv = start(&clock).await;
    let read = srv.key(&["operator.read"]);
    let mut v3 = srv.client(&read, false).await;
    let mut v4 = srv.client(&read, true).await;
    let mut admin = srv.client(&srv.key(&["operator.admin"]), false).await;

    let job = admin
        .call(
            "cron.add",
            json!({"name": "fails", "schedule": {"kind": "every", "everyMs": 60000},
                   "payload": {"kind": "agentTurn", "message": "/fail"}, "sessionKey": "cron-ev",
                   "retry": {"maxAttempts": 1}}),
        )
        .await;
    let id = job["id"].as_str().unwrap().to_string();
    for c in [&mut v3, &mut v4] {
        let added = cron_action(c, "added").await;
        assert_eq!(added["jobId"], json!(id));
        assert_eq!(added["job"]["name"], "fails");
    }

    clock.advance_ms(60_000);
    for c in [&mut v3, &mut v4] {
        let started = cron_action(c, "started").await;
        assert_eq!(started["jobId"], json!(id));
        assert_eq!(started["trigger"], "schedule");
        let done = cron_action(c, "finished").await;
        assert_eq!(done["jobId"], json!(id));
        assert_eq!(done["status"], "error", "{done}");
        assert_eq!(done["deadLettered"], true, "{done}");
        let dlq_id = done["dlqId"].as_str().unwrap();
        assert!(dlq_id.starts_with("dlq_"), "{done}");
        assert!(
            done["error"]
                .as_str()
                .unwrap()
                .contains("simulated failure"),
            "{done}"
        );
        // The dlqId names the item the DLQ lists.
        let items = v3_items(&mut admin).await;
        assert!(items.iter().any(|i| i["id"] == dlq_id), "{items:?}");
    }
}

async fn v3_items(c: &mut Client) -> Vec<Value> {
    c.call("cron.dlq.list", json!({})).await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}
