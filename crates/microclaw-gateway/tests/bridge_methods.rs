//! Conformance: every method of gateway-protocol.md §4 with every alias, its result shape,
//! lenient params, bad params, scope denial and unknown methods, for protocols 3 and 4.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{both, has_keys, start};
use serde_json::{json, Value};

#[tokio::test]
async fn health_status_ping_and_the_read_only_listings_have_their_shapes() {
    let srv = start().await;
    for (mut c, p) in both(&srv).await {
        let h = c.call("health", json!({})).await;
        assert_eq!(h["ok"], true, "{p}");
        has_keys(
            &h,
            &[
                "version",
                "uptimeMs",
                "sessions",
                "activeRuns",
                "connections",
            ],
        );
        assert!(
            h["connections"].as_u64().unwrap() >= 1,
            "this connection counts: {h}"
        );
        let s = c.call("status", Value::Null).await;
        has_keys(
            &s,
            &[
                "ok",
                "version",
                "uptimeMs",
                "sessions",
                "activeRuns",
                "connections",
                "slo",
                "risk_level",
            ],
        );
        assert!(s["sessions"]["recent"].is_array());
        let ping = c.call("ping", json!({})).await;
        assert!(
            ping["ts"].as_i64().unwrap() > 1_600_000_000_000,
            "{p}: ping ts is epoch ms"
        );
        let agents = c.call("agents.list", json!({})).await;
        has_keys(&agents["agents"][0], &["id", "name", "model", "status"]);
        let models = c.call("models.list", json!({})).await;
        has_keys(&models["models"][0], &["id", "name", "provider"]);
        let cfg = c.call("config.get", json!({})).await;
        assert_eq!(cfg["config"]["server"]["tick_interval_ms"], 15000, "{p}");
        let nodes = c.call("node.list", json!({})).await;
        assert_eq!(nodes["nodes"], json!([]));
        assert!(nodes["ts"].is_i64());
    }
}

#[tokio::test]
async fn chat_send_streams_a_reply_that_chat_history_returns_oldest_first() {
    let srv = start().await;
    for (mut c, p) in both(&srv).await {
        let key = format!("hist-{p}");
        // Extra keys real clients send are ignored.
        let sent = c
            .call(
                "chat.send",
                json!({"sessionKey": key, "message": "/echo hello", "deliver": true,
                                      "attachments": [], "thinking": "low", "timeoutMs": 5000}),
            )
            .await;
        assert_eq!(sent["status"], "started");
        let run_id = sent["runId"].as_str().unwrap().to_string();
        let events = c.run_events(&run_id).await;
        assert_eq!(events.last().unwrap()["payload"]["state"], "final", "{p}");
        let h = c
            .call("chat.history", json!({"key": key, "limit": 10}))
            .await;
        assert_eq!(
            (
                h["sessionKey"].as_str(),
                h["key"].as_str(),
                h["hasMore"].as_bool()
            ),
            (Some(key.as_str()), Some(key.as_str()), Some(false))
        );
        let msgs = h["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 2, "{h}");
        assert_eq!(
            (msgs[0]["role"].as_str(), msgs[1]["role"].as_str()),
            (Some("user"), Some("assistant"))
        );
        assert_eq!(
            msgs[0]["content"],
            json!([{"type": "text", "text": "/echo hello"}])
        );
        has_keys(&msgs[1], &["id", "timestamp"]);
        let paged = c
            .call("chat.history", json!({"session_key": key, "limit": 1}))
            .await;
        assert_eq!(
            (
                paged["messages"].as_array().unwrap().len(),
                paged["hasMore"].as_bool()
            ),
            (1, Some(true))
        );
        let before = paged["messages"][0]["id"].clone();
        let older = c
            .call(
                "chat.history",
                json!({"sessionKey": key, "limit": 5, "before": before}),
            )
            .await;
        assert_eq!(
            older["messages"][0]["role"], "user",
            "paging with before returns the older message"
        );
    }
}

#[tokio::test]
async fn chat_history_errors_unknown_session_and_bad_limit() {
    let srv = start().await;
    for (mut c, p) in both(&srv).await {
        if p == "v3" {
            let e = c
                .call_err("chat.history", json!({"sessionKey": "nobody-here"}))
                .await;
            assert_eq!(e["code"], "NOT_FOUND", "{p}");
        } else {
            // OpenClaw answers an unknown session with an empty history (gateway-protocol §4).
            let h = c
                .call("chat.history", json!({"sessionKey": "nobody-here"}))
                .await;
            assert_eq!(h["messages"], json!([]), "{p}: {h}");
        }
        let e = c
            .call_err("chat.history", json!({"sessionKey": "main", "limit": 0}))
            .await;
        assert_eq!(e["code"], "INVALID_REQUEST");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .starts_with("invalid chat.history params: limit"),
            "{e}"
        );
        let e = c
            .call_err("chat.send", json!({"sessionKey": "main", "message": ""}))
            .await;
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("invalid chat.send params: message"),
            "{e}"
        );
        let e = c
            .call_err("chat.send", json!({"sessionKey": "main", "message": 5}))
            .await;
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("message must be a string"),
            "{e}"
        );
    }
}

#[tokio::test]
async fn a_repeated_idempotency_key_returns_the_first_run_and_starts_nothing() {
    let srv = start().await;
    let (mut c, _) = srv.client_v4(&srv.rw_key()).await;
    let p = json!({"sessionKey": "idem", "message": "/echo once", "idempotencyKey": "k-1"});
    let first = c.call("chat.send", p.clone()).await;
    let run_id = first["runId"].as_str().unwrap().to_string();
    c.run_events(&run_id).await;
    let second = c.call("chat.send", p).await;
    assert_eq!(
        second["runId"],
        run_id.as_str(),
        "same idempotency key, same run"
    );
    let h = c.call("chat.history", json!({"sessionKey": "idem"})).await;
    assert_eq!(
        h["messages"].as_array().unwrap().len(),
        2,
        "no second user message was stored"
    );
}

#[tokio::test]
async fn sessions_send_and_its_alias_start_runs_and_control_messages_are_enforced() {
    let srv = start().await;
    for (mut c, p) in both(&srv).await {
        for method in ["sessions.send", "sessions_send"] {
            let r = c
                .call(
                    method,
                    json!({"sessionKey": format!("send-{p}"), "message": "status summary"}),
                )
                .await;
            has_keys(&r, &["runId", "key", "sessionKey"]);
            assert_eq!(
                (r["ok"].as_bool(), r["status"].as_str()),
                (Some(true), Some("started")),
                "{method}"
            );
            let ev = c.run_events(r["runId"].as_str().unwrap()).await;
            assert_eq!(ev.last().unwrap()["payload"]["state"], "final");
        }
        let key = format!("ctl-{p}");
        let pause = c
            .call(
                "sessions.send",
                json!({"sessionKey": key, "message": {"type": "control", "action": "pause"}}),
            )
            .await;
        assert_eq!(
            (
                pause["ok"].as_bool(),
                pause["action"].as_str(),
                pause["applied"].as_bool()
            ),
            (Some(true), Some("pause"), Some(true))
        );
        let resume = c
            .call(
                "sessions_send",
                json!({"key": key, "message": {"type": "control", "action": "resume"}}),
            )
            .await;
        assert_eq!(resume["applied"], true, "{resume}");
        let abort = c
            .call(
                "sessions.send",
                json!({"key": key, "message": {"type": "control", "action": "abort"}}),
            )
            .await;
        assert_eq!(
            (abort["applied"].as_bool(), abort["reason"].as_str()),
            (Some(false), Some("no active run"))
        );
        let e = c
            .call_err(
                "sessions.send",
                json!({"key": key, "message": {"type": "control", "action": "explode"}}),
            )
            .await;
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("abort, pause, resume"),
            "{e}"
        );
        let e = c.call_err("sessions.send", json!({"key": key})).await;
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .starts_with("invalid sessions.send params: message"),
            "{e}"
        );
    }
}

#[tokio::test]
async fn sessions_spawn_creates_a_spawn_session_whose_run_streams() {
    let srv = start().await;
    for (mut c, p) in both(&srv).await {
        for method in ["sessions.spawn", "sessions_spawn"] {
            let r = c
                .call(
                    method,
                    json!({"task": "/echo spawned", "label": "job", "runTimeoutSeconds": 30}),
                )
                .await;
            let key = r["key"].as_str().unwrap();
            assert!(
                key.starts_with("spawn:") && key.len() == 6 + 32,
                "{p} {method}: {key}"
            );
            assert_eq!(
                (
                    r["sessionKey"].as_str(),
                    r["label"].as_str(),
                    r["runTimeoutSeconds"].as_u64()
                ),
                (Some(key), Some("job"), Some(30))
            );
            has_keys(&r, &["ok", "runId", "model"]);
            let ev = c.run_events(r["runId"].as_str().unwrap()).await;
            assert_eq!(ev.last().unwrap()["payload"]["state"], "final");
        }
        let e = c
            .call_err("sessions.spawn", json!({"label": "no task"}))
            .await;
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .starts_with("invalid sessions.spawn params: task"),
            "{e}"
        );
        let e = c
            .call_err(
                "sessions.spawn",
                json!({"task": "x", "runTimeoutSeconds": -1}),
            )
            .await;
        assert!(
            e["message"].as_str().unwrap().contains("runTimeoutSeconds"),
            "{e}"
        );
    }
}

#[tokio::test]
async fn unknown_methods_differ_by_protocol_and_read_keys_cannot_write() {
    let srv = start().await;
    let read = srv.key(&["operator.read"]);
    let (mut c3, _) = srv.client_v3(&read).await;
    let (mut c4, _) = srv.client_v4(&read).await;
    assert_eq!(
        c3.call_err("sessions.nuke", json!({})).await["code"],
        "METHOD_NOT_FOUND"
    );
    let e = c4.call_err("sessions.nuke", json!({})).await;
    assert_eq!(
        (e["code"].as_str(), e["message"].as_str()),
        (
            Some("INVALID_REQUEST"),
            Some("unknown method: sessions.nuke")
        )
    );
    for c in [&mut c3, &mut c4] {
        for (method, params) in [
            ("chat.send", json!({"message": "hi"})),
            ("sessions_send", json!({"message": "hi"})),
            ("sessions_kill", json!({})),
            ("sessions_spawn", json!({"task": "t"})),
            ("session_setLabel", json!({"label": "x"})),
            ("sessions.patch", json!({"key": "x"})),
            ("chat.abort", json!({})),
        ] {
            let e = c.call_err(method, params).await;
            assert_eq!(e["code"], "FORBIDDEN", "{method}");
            assert_eq!(
                e["details"],
                json!({"code": "MISSING_SCOPE", "missingScope": "operator.write"}),
                "{method}"
            );
        }
        // The destructive actions need approvals, as over HTTP (one scope table).
        for method in ["session_delete", "sessions.fork"] {
            let e = c.call_err(method, json!({})).await;
            assert_eq!(
                e["details"],
                json!({"code": "MISSING_SCOPE", "missingScope": "operator.approvals"}),
                "{method}"
            );
        }
        assert_eq!(
            c.call("health", json!({})).await["ok"],
            true,
            "reads still work"
        );
    }
}
