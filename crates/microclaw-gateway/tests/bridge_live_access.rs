//! Access that bites on open bridge sockets: every request is charged to the key's rate limit
//! (RATE_LIMITED with retryAfterMs, the socket stays open), and a key revoked by another
//! process (the offline CLI, through the database, no event) closes the socket with 1008.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{start_with, Frame, WAIT};
use microclaw_engine::{Engine, EngineOptions};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn every_request_is_charged_and_over_the_limit_answers_rate_limited() {
    let srv = start_with(|c| c.auth.api_key_rate_limit_per_minute = 10).await;
    let (mut c, _) = srv.client_v4(&srv.rw_key()).await;
    let mut limited = None;
    for _ in 0..12 {
        let res = c.call_frame("ping", json!({})).await;
        if res["ok"] == false {
            limited = Some(res["error"].clone());
            break;
        }
    }
    let e = limited.expect("the 11th request in a minute is over the limit");
    assert_eq!(e["code"], "RATE_LIMITED", "{e}");
    assert!(e["retryAfterMs"].as_u64().unwrap() > 0, "{e}");
    assert_eq!(e["retryable"], true, "{e}");
    let again = c.call_frame("sessions.list", json!({})).await;
    assert_eq!(
        again["error"]["code"], "RATE_LIMITED",
        "the socket stays open and keeps answering: {again}"
    );
}

#[tokio::test]
async fn a_key_revoked_by_another_process_closes_its_socket_with_1008() {
    let srv = start_with(|c| c.server.tick_interval_ms = 60_000).await;
    let key = srv.rw_key();
    let (mut c, _) = srv.client_v4(&key).await;
    let id = srv
        .engine
        .store()
        .api_keys_list()
        .unwrap()
        .into_iter()
        .find(|k| key.starts_with(&k.prefix))
        .unwrap()
        .id;
    // What `microclaw auth keys revoke` does: its own engine on the same data dir.
    let offline = Engine::open(EngineOptions {
        data_dir: srv.engine.data_dir().to_path_buf(),
        config: Default::default(),
        clock: None,
    })
    .unwrap();
    let revoked_at = Instant::now();
    assert!(microclaw_engine::ops::auth::key_revoke_blocking(&offline, "cli", id).unwrap());
    // No request is sent: the connection's own periodic recheck must notice.
    let deadline = Instant::now() + WAIT;
    let code = loop {
        assert!(Instant::now() < deadline, "the socket stayed open");
        match c.next_frame().await {
            Frame::Close(code) => break code,
            _ => continue,
        }
    };
    assert_eq!(code, Some(1008));
    let took = revoked_at.elapsed();
    assert!(took < Duration::from_secs(3), "closed only after {took:?}");
}
