//! `GET /api/logs?cursor=&limit=&maxBytes=`: the same ring and rules as the bridge's
//! `logs.tail`, behind the read scope.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod http_common;

use http_common::*;
use serde_json::{json, Value};

fn lines(v: &Value) -> Vec<String> {
    v["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("no lines in {v}"))
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

fn log_lines(api: &Api, tag: &str, n: usize) {
    api.engine.log_ring().capture(|| {
        for i in 1..=n {
            tracing::warn!(target: "microclaw_gateway::http_test", "{tag} line {i}");
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_read_by_cursor_with_limit_and_max_bytes() {
    let api = start_with(|c| c.logging.ring_lines = 100).await;
    let read = Cred::bearer(&api.key(&["operator.read"]));
    log_lines(&api, "http", 5);
    let r = api.get("/api/logs", &read).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["file"], "memory");
    let got = lines(&r.json);
    assert!(got
        .last()
        .unwrap()
        .ends_with("WARN microclaw_gateway::http_test: http line 5"));
    let cursor = r.json["cursor"].as_u64().unwrap();

    log_lines(&api, "later", 4);
    let r = api
        .get(&format!("/api/logs?cursor={cursor}&limit=3"), &read)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let got = lines(&r.json);
    assert_eq!(got.len(), 3, "{}", r.text);
    assert!(got[0].ends_with("later line 2") && got[2].ends_with("later line 4"));
    assert_eq!(
        r.json["truncated"], true,
        "later line 1 was left out for the limit"
    );
    assert_eq!(r.json["cursor"], json!(cursor + 4));

    let r = api.get("/api/logs?maxBytes=1", &read).await;
    assert_eq!(r.json["lines"], json!([]), "no line fits in one byte");
    assert_eq!(r.json["truncated"], true);

    log_lines(&api, "flood", 120);
    let r = api.get(&format!("/api/logs?cursor={cursor}"), &read).await;
    assert_eq!(
        r.json["reset"], true,
        "the cursor fell out of a 100-line ring"
    );
    assert_eq!(lines(&r.json).len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_bad_queries_are_named_and_read_is_required() {
    let api = start().await;
    let key = api.key(&["operator.read"]);
    api.engine.log_ring().capture(|| {
        tracing::warn!(api_key = %key, "auth failed for key {key} with password: \"pa ss\"");
    });
    let r = api.get("/api/logs", &Cred::bearer(&key)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        !r.text.contains(&key[3..]) && !r.text.contains("pa ss"),
        "{}",
        r.text
    );
    assert!(r.text.contains("api_key=***"), "{}", r.text);

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=5001", "limit"),
        ("maxBytes=0", "maxBytes"),
        ("maxBytes=lots", "maxBytes"),
        ("cursor=-3", "cursor"),
    ] {
        let r = api
            .get(&format!("/api/logs?{query}"), &Cred::bearer(&key))
            .await;
        r.assert_error(400, "INVALID_REQUEST", query);
        assert!(r.message().contains(field), "{query}: {}", r.message());
    }
    let r = api
        .get("/api/logs?limit=2&other=1", &Cred::bearer(&key))
        .await;
    assert_eq!(r.status, 200, "unknown query keys are ignored: {}", r.text);

    api.get("/api/logs", &Cred::None)
        .await
        .assert_error(401, "UNAUTHORIZED", "no credential");
    let approvals = api.key(&["operator.approvals"]);
    api.get("/api/logs", &Cred::bearer(&approvals))
        .await
        .assert_error(403, "FORBIDDEN", "approvals does not imply read");
}
