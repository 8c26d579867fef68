//! `logs.tail` over a real gateway, both protocols: lines logged through the engine's ring
//! (a real `tracing` layer), cursor continuation, stale cursors, the limit / maxBytes bounds,
//! secrets kept out, scope and bad params.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::*;
use serde_json::{json, Value};

fn lines(v: &Value) -> Vec<String> {
    v["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("no lines in {v}"))
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

fn log_lines(srv: &TestServer, tag: &str, n: usize) {
    srv.engine.log_ring().capture(|| {
        for i in 1..=n {
            tracing::info!(target: "microclaw_gateway::test", "{tag} line {i}");
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_returns_the_ring_and_a_cursor_continues_with_newer_lines_only() {
    let srv = start().await;
    for (mut c, p) in both_with_key(&srv, &srv.key(&["operator.read"])).await {
        log_lines(&srv, &format!("first-{p}"), 3);
        let t = c.call("logs.tail", json!({})).await;
        has_keys(
            &t,
            &["file", "cursor", "size", "lines", "truncated", "reset"],
        );
        assert_eq!(t["file"], "memory", "{p}");
        let got = lines(&t);
        assert!(got.len() >= 3, "{p}: {t}");
        let last = got.last().unwrap();
        assert!(
            last.ends_with(&format!(" INFO microclaw_gateway::test: first-{p} line 3")),
            "{p}: {last}"
        );
        assert!(
            last.as_bytes()[..4].iter().all(u8::is_ascii_digit),
            "RFC 3339 first: {last}"
        );
        assert_eq!(
            (t["truncated"].clone(), t["reset"].clone()),
            (json!(false), json!(false))
        );
        assert!(t["size"].as_u64().unwrap() > 0);

        let tag = format!("next-{p}");
        log_lines(&srv, &tag, 2);
        let t2 = c.call("logs.tail", json!({"cursor": t["cursor"]})).await;
        let newer = lines(&t2);
        assert_eq!(newer.len(), 2, "{p}: only the lines after the cursor: {t2}");
        assert!(newer[0].ends_with(&format!("{tag} line 1")), "{p}: {t2}");
        assert_eq!(
            t2["cursor"].as_u64().unwrap(),
            t["cursor"].as_u64().unwrap() + 2,
            "{p}"
        );
        let t3 = c.call("logs.tail", json!({"cursor": t2["cursor"]})).await;
        assert_eq!(t3["lines"], json!([]), "{p}: nothing new: {t3}");
        assert_eq!(t3["reset"], false);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_that_fell_out_of_the_ring_is_a_reset() {
    let srv = start_with(|c| c.logging.ring_lines = 100).await;
    let (mut c, _) = srv.client_v4(&srv.rw_key()).await;
    let before = c.call("logs.tail", json!({})).await;
    log_lines(&srv, "flood", 150);
    let t = c
        .call("logs.tail", json!({"cursor": before["cursor"]}))
        .await;
    assert_eq!(
        t["reset"], true,
        "50 lines after the cursor are gone: {}",
        t["cursor"]
    );
    let got = lines(&t);
    assert_eq!(got.len(), 100, "the ring holds 100 lines");
    assert!(got[99].ends_with("flood line 150"), "{}", got[99]);
    let ahead = c
        .call(
            "logs.tail",
            json!({"cursor": t["cursor"].as_u64().unwrap() + 1000}),
        )
        .await;
    assert_eq!(ahead["reset"], true, "a cursor from a previous process");
    let current = c.call("logs.tail", json!({"cursor": t["cursor"]})).await;
    assert_eq!(current["reset"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_and_max_bytes_keep_the_newest_lines() {
    let srv = start().await;
    log_lines(&srv, "bound", 20);
    let (mut c, _) = srv.client_v3(&srv.rw_key()).await;
    let t = c.call("logs.tail", json!({"limit": 2})).await;
    let got = lines(&t);
    assert_eq!(got.len(), 2, "{t}");
    assert!(got[1].ends_with("bound line 20") && got[0].ends_with("bound line 19"));
    assert_eq!(t["truncated"], true);
    let one = got[1].len() as u64 + 1;
    let t = c.call("logs.tail", json!({"maxBytes": one + 5})).await;
    assert_eq!(
        lines(&t).len(),
        1,
        "only one line fits in {} bytes: {t}",
        one + 5
    );
    assert_eq!(t["truncated"], true);
    let t = c
        .call(
            "logs.tail",
            json!({"limit": "3", "maxBytes": 1_000_000, "extra": true}),
        )
        .await;
    assert_eq!(
        lines(&t).len(),
        3,
        "numeric strings accepted, unknown params ignored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_logged_in_messages_never_reach_the_lines() {
    let srv = start().await;
    let key = srv.rw_key();
    let launch = srv.engine.launch_token().to_string();
    srv.engine.log_ring().capture(|| {
        tracing::warn!("rejected key {key} from 10.0.0.1");
        tracing::warn!(
            password = "hunter2-field",
            "login attempt with password=hunter2-inline"
        );
        tracing::info!("desktop launch {launch}, header Authorization: Bearer tok.en-123");
        tracing::info!("otlp to https://otel:s3cret-pw@collector:4318/v1/metrics failed");
    });
    let (mut c, _) = srv.client_v4(&key).await;
    let t = c.call("logs.tail", json!({})).await;
    let text = t.to_string();
    for secret in [
        &key[3..],
        "hunter2",
        &launch[4..],
        "tok.en-123",
        "s3cret-pw",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(text.contains("rejected key mk_*** from 10.0.0.1"), "{text}");
    assert!(text.contains("https://***@collector:4318"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_params_name_the_field_and_the_method_is_advertised() {
    let srv = start().await;
    for (mut c, p) in both(&srv).await {
        for (params, field) in [
            (json!({"limit": 0}), "limit"),
            (json!({"limit": 5001}), "limit"),
            (json!({"maxBytes": 1_000_001}), "maxBytes"),
            (json!({"maxBytes": "lots"}), "maxBytes"),
            (json!({"cursor": -1}), "cursor"),
            (json!({"cursor": [1]}), "cursor"),
        ] {
            let e = c.call_err("logs.tail", params.clone()).await;
            assert_eq!(e["code"], "INVALID_REQUEST", "{p} {params}: {e}");
            let msg = e["message"].as_str().unwrap();
            assert!(
                msg.starts_with(&format!("invalid logs.tail params: {field}")),
                "{p} {params}: {msg}"
            );
        }
    }
    // A read-only key may tail (connect itself needs read, so no bridge caller lacks it; the
    // HTTP suite checks the refusal).
    let (mut c, hello) = srv.client_v4(&srv.key(&["operator.read"])).await;
    let methods = hello["features"]["methods"].to_string();
    assert!(methods.contains("\"logs.tail\""), "advertised: {methods}");
    c.call("logs.tail", json!({"limit": 1})).await;
}
