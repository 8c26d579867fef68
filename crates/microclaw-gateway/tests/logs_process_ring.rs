//! The real wiring: a process-wide subscriber over the process log ring (as `microclaw start`
//! installs it), an engine that picks that ring up, and the server's own log lines (written on
//! its worker threads) read back by `logs.tail` and `GET /api/logs`, secrets redacted.
//! One test in this binary: the global subscriber is process state.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::*;
use serde_json::{json, Value};
use std::sync::Arc;

fn lines(v: &Value) -> Vec<String> {
    v["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("no lines in {v}"))
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_own_log_lines_reach_the_ring_without_secrets() {
    let ring = microclaw_engine::log_ring::install_process_ring();
    tracing::subscriber::set_global_default(microclaw_engine::log_ring::subscriber(ring.clone()))
        .unwrap();
    let srv = start().await;
    assert!(
        Arc::ptr_eq(srv.engine.log_ring(), &ring),
        "an engine opened after the binary installed the ring uses it"
    );
    let key = srv.rw_key();
    let (mut c, _) = srv.client_v4(&key).await;
    let before = c.call("logs.tail", json!({"limit": 1})).await;

    // A failed request whose method name quotes the key: the dispatcher logs it (debug).
    let e = c.call_err(&format!("no.such.{key}"), json!({})).await;
    assert!(
        e["message"].as_str().unwrap().contains("unknown method"),
        "{e}"
    );
    // A failed login over HTTP: the request recorder logs route and status.
    let http = reqwest::Client::new();
    let r = http
        .post(format!("http://{}/api/auth/login", srv.addr))
        .json(&json!({"password": "not-the-password"}))
        .timeout(WAIT)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());

    let t = c
        .call("logs.tail", json!({"cursor": before["cursor"]}))
        .await;
    let got = lines(&t);
    let dispatch = got
        .iter()
        .find(|l| l.contains("bridge request failed"))
        .unwrap_or_else(|| panic!("the dispatcher's line is in the ring: {got:#?}"));
    assert!(
        dispatch.contains(" DEBUG microclaw_gateway::bridge::methods: "),
        "{dispatch}"
    );
    assert!(dispatch.contains("mk_***"), "{dispatch}");
    assert!(
        got.iter().any(|l| l.contains("route=\"/api/auth/login\"") || l.contains("route=/api/auth/login")),
        "the login request's line: {got:#?}"
    );
    let text = t.to_string();
    assert!(!text.contains(&key[3..]), "the key leaked: {text}");
    assert!(!text.contains("not-the-password"), "{text}");

    let r = http
        .get(format!("http://{}/api/logs?limit=5000", srv.addr))
        .bearer_auth(&key)
        .timeout(WAIT)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("bridge request failed") && !body.contains(&key[3..]),
        "{body}"
    );
}
