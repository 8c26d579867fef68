//! The methods Mission Control calls beyond the common set (issue 20): the session control
//! action `monitor`, `channels.status` in OpenClaw's shape, and `sessionId` in the results
//! of `sessions.spawn` and `sessions.send`.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{start, Client};
use serde_json::{json, Value};

async fn finish(c: &mut Client, reply: &Value) {
    let run_id = reply["runId"].as_str().unwrap().to_string();
    let events = c.run_events(&run_id).await;
    assert_eq!(events.last().unwrap()["payload"]["state"], "final");
}

#[tokio::test]
async fn monitor_is_acknowledged_and_marks_the_session_watched() {
    let srv = start().await;
    let (mut c, _) = srv.client_v4(&srv.rw_key()).await;
    let control = |action: &str| json!({"sessionKey": "ops", "message": {"type": "control", "action": action}});
    let first = c.call("sessions.send", control("monitor")).await;
    assert_eq!(first["ok"], true);
    assert_eq!(first["action"], "monitor");
    assert_eq!(first["applied"], true);
    assert_eq!(first["watched"], true);
    assert_eq!(first["sessionKey"], "ops");
    let since = first["watchedSince"].as_i64().unwrap();
    assert_eq!(srv.engine.watched_sessions().since("ops"), Some(since));
    // Mission Control's button may send it again: the watch keeps its start.
    let again = c.call("sessions.send", control("MONITOR")).await;
    assert_eq!(again["watchedSince"], since);

    let e = c.call_err("sessions.send", control("explode")).await;
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("abort, pause, resume, monitor"),
        "the error lists monitor: {msg}"
    );

    // Deleting the session ends its watch (the engine's compat loop runs with the server).
    srv.engine.start_background();
    let admin = srv.key(&["operator.admin"]);
    let (mut a, _) = srv.client_v4(&admin).await;
    let sent = a
        .call(
            "sessions.send",
            json!({"sessionKey": "ops", "message": "hi"}),
        )
        .await;
    finish(&mut a, &sent).await;
    a.call("sessions.delete", json!({"sessionKey": "ops"}))
        .await;
    let mut gone = false;
    for _ in 0..500 {
        if srv.engine.watched_sessions().since("ops").is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(gone, "a deleted session is no longer watched");
}

#[tokio::test]
async fn channels_status_answers_openclaws_empty_summary() {
    let srv = start().await;
    let read = srv.key(&["operator.read"]);
    let (mut c, hello) = srv.client_v4(&read).await;
    let methods = hello["features"]["methods"].as_array().unwrap();
    assert!(methods.iter().any(|m| m == "channels.status"), "advertised");
    for params in [json!({}), json!({"probe": true, "timeoutMs": 2500})] {
        let s = c.call("channels.status", params).await;
        assert!(s["ts"].as_i64().unwrap() > 0);
        assert_eq!(s["channelOrder"], json!([]));
        assert_eq!(s["channels"], json!({}));
        assert_eq!(s["channelAccounts"], json!({}));
        assert_eq!(s["channelDefaultAccountId"], json!({}));
        assert_eq!(s["channelLabels"], json!({}));
        assert_eq!(s["channelMeta"], json!([]));
    }
    let e = c.call_err("channels.status", json!({"probe": "yes"})).await;
    assert_eq!(e["code"], "INVALID_REQUEST");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("probe must be a boolean"),
        "{e}"
    );
    let e = c
        .call_err("channels.status", json!({"timeoutMs": -1}))
        .await;
    assert!(e["message"].as_str().unwrap().contains("timeoutMs"), "{e}");
}

#[tokio::test]
async fn spawn_and_send_results_carry_the_session_id() {
    let srv = start().await;
    let (mut c, _) = srv.client_v4(&srv.rw_key()).await;
    let spawned = c
        .call(
            "sessions.spawn",
            json!({"task": "check the disks", "label": "disks"}),
        )
        .await;
    let key = spawned["key"].as_str().unwrap().to_string();
    let sid = spawned["sessionId"].as_str().unwrap().to_string();
    finish(&mut c, &spawned).await;
    let row = srv.engine.store().session_get(&key).unwrap().unwrap();
    assert_eq!(row.session_id, sid, "the spawned session's generation");

    let sent = c
        .call(
            "sessions.send",
            json!({"sessionKey": key, "message": "and the memory"}),
        )
        .await;
    assert_eq!(sent["sessionId"], sid.as_str(), "same generation: {sent}");
    finish(&mut c, &sent).await;

    // A brand-new session: the send creates it and reports its generation.
    let fresh = c
        .call(
            "sessions.send",
            json!({"sessionKey": "fresh", "message": "hello"}),
        )
        .await;
    let fresh_sid = fresh["sessionId"].as_str().unwrap().to_string();
    finish(&mut c, &fresh).await;
    let row = srv.engine.store().session_get("fresh").unwrap().unwrap();
    assert_eq!(row.session_id, fresh_sid);
    assert_ne!(fresh_sid, sid);
}
