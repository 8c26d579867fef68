//! OpenClaw's session methods over a real WebSocket: `sessions.subscribe`, `sessions.reset`
//! (a new generation, approvals scope), `sessions.abort` (its own result shape), `chat.inject`
//! (admin, not advertised) and the flat row fields on `sessions.changed`.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{start, Client};
use serde_json::{json, Value};

async fn changed(c: &mut Client, key: &str, reason: &str) -> Value {
    loop {
        let ev = c.next_event("sessions.changed").await;
        if ev["payload"]["key"] == key && ev["payload"]["reason"] == reason {
            return ev["payload"].clone();
        }
    }
}

#[tokio::test]
async fn subscribe_answers_openclaws_shape_with_an_optional_snapshot() {
    let srv = start().await;
    let (mut c, _) = srv.client_v4(&srv.rw_key()).await;
    c.call("sessions.patch", json!({"key": "s1", "label": "One"}))
        .await;
    let bare = c.call("sessions.subscribe", json!({})).await;
    assert_eq!(bare, json!({"subscribed": true}));
    let with_list = c
        .call(
            "sessions.subscribe",
            json!({"limit": 5, "activeMinutes": 60}),
        )
        .await;
    assert_eq!(with_list["subscribed"], true);
    assert_eq!(with_list["list"]["totalCount"], 1, "{with_list}");
    assert_eq!(with_list["list"]["sessions"][0]["key"], "s1");

    // Changes carry the row fields flat, as OpenClaw's subscribers read them.
    c.call("sessions.patch", json!({"key": "s1", "label": "Renamed"}))
        .await;
    let ev = changed(&mut c, "s1", "updated").await;
    assert_eq!(ev["sessionKey"], "s1");
    assert_eq!(ev["label"], "Renamed");
    assert!(
        ev["sessionId"].as_str().is_some_and(|s| !s.is_empty()),
        "{ev}"
    );
    assert!(ev["ts"].is_i64(), "{ev}");
}

#[tokio::test]
async fn reset_starts_a_new_generation_and_needs_approvals() {
    let srv = start().await;
    let (mut w, _) = srv.client_v4(&srv.rw_key()).await;
    let run = w
        .call(
            "chat.send",
            json!({"sessionKey": "gen", "message": "/echo hello"}),
        )
        .await;
    w.run_events(run["runId"].as_str().unwrap()).await;
    w.call(
        "sessions.setLabel",
        json!({"key": "gen", "label": "Keep me"}),
    )
    .await;
    let before = w.call("chat.history", json!({"sessionKey": "gen"})).await;
    let old_id = before["sessionId"].as_str().unwrap().to_string();
    assert_eq!(before["messages"].as_array().unwrap().len(), 2, "{before}");

    let e = w.call_err("sessions.reset", json!({"key": "gen"})).await;
    assert_eq!(e["details"]["missingScope"], "operator.approvals", "{e}");

    let key = srv.key(&["operator.read", "operator.write", "operator.approvals"]);
    let (mut a, _) = srv.client_v4(&key).await;
    let e = a
        .call_err(
            "sessions.reset",
            json!({"key": "gen", "expectedSessionId": "not-the-current-one"}),
        )
        .await;
    assert_eq!(e["code"], "INVALID_REQUEST");
    assert_eq!(e["details"]["reason"], "session-changed", "{e}");
    let e = a.call_err("sessions.reset", json!({"key": "nobody"})).await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("unknown session: nobody"),
        "{e}"
    );

    let r = a
        .call(
            "sessions.reset",
            json!({"key": "gen", "expectedSessionId": old_id, "reason": "reset"}),
        )
        .await;
    assert_eq!(r["ok"], true);
    assert_eq!(r["key"], "gen");
    let new_id = r["entry"]["sessionId"].as_str().unwrap();
    assert_ne!(new_id, old_id, "reset replaces the generation");
    assert_eq!(r["entry"]["label"], "Keep me", "settings are kept");
    assert!(r["resolved"]["model"].is_string(), "{r}");
    let ev = changed(&mut a, "gen", "reset").await;
    assert_eq!(ev["sessionId"], new_id);
    let after = a.call("chat.history", json!({"sessionKey": "gen"})).await;
    assert_eq!(after["messages"], json!([]), "the transcript is empty");
    assert_eq!(after["sessionId"], new_id);
}

#[tokio::test]
async fn abort_answers_openclaws_shape_by_key_or_by_run_id() {
    let srv = start().await;
    let (mut c, _) = srv.client_v4(&srv.rw_key()).await;
    let idle = c.call("sessions.abort", json!({"key": "quiet"})).await;
    assert_eq!(
        idle,
        json!({"ok": true, "abortedRunId": null, "status": "no-active-run"})
    );
    let unknown = c
        .call("sessions.abort", json!({"runId": "no-such-run"}))
        .await;
    assert_eq!(unknown["status"], "no-active-run");

    for by_run_id in [false, true] {
        let run = c
            .call(
                "chat.send",
                json!({"sessionKey": "busy", "message": "/slow 30"}),
            )
            .await;
        let run_id = run["runId"].as_str().unwrap().to_string();
        let params = if by_run_id {
            json!({"runId": run_id})
        } else {
            json!({"key": "busy"})
        };
        let r = c.call("sessions.abort", params).await;
        assert_eq!(
            r,
            json!({"ok": true, "abortedRunId": run_id, "status": "aborted"}),
            "by run id: {by_run_id}"
        );
        let events = c.run_events(&run_id).await;
        assert_eq!(events.last().unwrap()["payload"]["state"], "aborted");
    }
    // sessions.kill keeps MicroClaw's shape.
    let k = c.call("sessions.kill", json!({"key": "busy"})).await;
    assert!(k.get("terminated").is_some(), "{k}");
}

#[tokio::test]
async fn inject_appends_an_assistant_message_for_admins_only_and_is_not_advertised() {
    let srv = start().await;
    let (mut w, hello) = srv.client_v4(&srv.rw_key()).await;
    let methods: Vec<&str> = hello["features"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(!methods.contains(&"chat.inject"), "advertise:false");
    for m in ["sessions.subscribe", "sessions.reset", "sessions.abort"] {
        assert!(methods.contains(&m), "hello-ok lists {m}");
    }
    let e = w
        .call_err("chat.inject", json!({"sessionKey": "x", "message": "hi"}))
        .await;
    assert_eq!(e["details"]["missingScope"], "operator.admin", "{e}");

    let (mut a, _) = srv.client_v4(&srv.key(&["operator.admin"])).await;
    let e = a
        .call_err(
            "chat.inject",
            json!({"sessionKey": "nobody", "message": "hi"}),
        )
        .await;
    assert_eq!(e["code"], "INVALID_REQUEST");
    assert!(
        e["message"].as_str().unwrap().contains("session not found"),
        "{e}"
    );
    let list = a.call("sessions.list", json!({})).await;
    assert_eq!(list["totalCount"], 0, "inject creates no session");

    a.call("sessions.patch", json!({"key": "notes", "label": "n"}))
        .await;
    let r = a
        .call(
            "chat.inject",
            json!({"sessionKey": "notes", "message": "Operator note: deploy paused"}),
        )
        .await;
    let id = r["messageId"].as_str().unwrap().to_string();
    let ev = loop {
        let ev = a.next_event("chat").await;
        if ev["payload"]["runId"] == format!("inject-{id}") {
            break ev;
        }
    };
    assert_eq!(ev["payload"]["state"], "final");
    assert_eq!(ev["payload"]["sessionKey"], "notes");
    let h = a.call("chat.history", json!({"sessionKey": "notes"})).await;
    let last = h["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["role"], "assistant");
    assert_eq!(last["content"][0]["text"], "Operator note: deploy paused");
}
