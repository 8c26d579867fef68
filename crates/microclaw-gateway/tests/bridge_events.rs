//! Conformance: events (gateway-protocol.md §3): chat order and seq per protocol, the
//! response-before-first-event rule, broadcast, abort/kill, ticks, presence, sessions.changed,
//! key revocation and shutdown.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{start, start_with, Client};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Sends a request and returns (response, every frame read before it, in order).
async fn call_recording(c: &mut Client, method: &str, params: Value) -> (Value, Vec<Value>) {
    c.send_json(&json!({"type": "req", "id": "rec", "method": method, "params": params}))
        .await;
    let mut before = Vec::new();
    loop {
        let v = c.next_json().await;
        if v["type"] == "res" && v["id"] == "rec" {
            return (v, before);
        }
        before.push(v);
    }
}

#[tokio::test]
async fn protocol_3_chat_events_count_from_zero_and_deltas_carry_only_the_chunk() {
    let srv = start().await;
    let (mut c, _) = srv.client_v3(&srv.rw_key()).await;
    let (res, before) = call_recording(
        &mut c,
        "chat.send",
        json!({"sessionKey": "p3", "message": "/help"}),
    )
    .await;
    let run_id = res["payload"]["runId"].as_str().unwrap().to_string();
    assert!(
        !before.iter().any(|f| f["event"] == "chat"),
        "the response precedes the run's first event"
    );
    let events = c.run_events(&run_id).await;
    assert!(
        events.len() >= 3,
        "several chunks then final: {}",
        events.len()
    );
    let mut text = String::new();
    for (i, ev) in events.iter().enumerate() {
        assert!(ev.get("seq").is_none(), "no frame seq in protocol 3");
        let p = &ev["payload"];
        assert_eq!(p["seq"], i as u64, "chat seq counts from 0 without gaps");
        assert_eq!(
            (p["sessionKey"].as_str(), p["key"].as_str()),
            (Some("p3"), Some("p3"))
        );
        if p["state"] == "delta" {
            assert!(p.get("deltaText").is_none());
            text.push_str(p["message"]["content"][0]["text"].as_str().unwrap());
        }
    }
    let fin = &events.last().unwrap()["payload"];
    assert_eq!(fin["state"], "final");
    assert_eq!(
        fin["message"]["content"][0]["text"].as_str().unwrap(),
        text,
        "final = the chunks joined"
    );
}

#[tokio::test]
async fn protocol_4_chat_events_count_from_one_with_delta_text_and_cumulative_message() {
    let srv = start().await;
    let (mut c, _) = srv.client_v4(&srv.rw_key()).await;
    let (res, before) = call_recording(
        &mut c,
        "sessions.send",
        json!({"sessionKey": "p4", "message": "/help"}),
    )
    .await;
    assert!(
        !before.iter().any(|f| f["event"] == "chat"),
        "the response precedes the run's first event"
    );
    let mut frame_seq = before
        .iter()
        .filter_map(|f| f["seq"].as_u64())
        .max()
        .unwrap_or(1);
    let events = c
        .run_events(res["payload"]["runId"].as_str().unwrap())
        .await;
    let mut cumulative = String::new();
    for (i, ev) in events.iter().enumerate() {
        let seq = ev["seq"].as_u64().unwrap();
        assert!(seq > frame_seq, "frame seq increases");
        frame_seq = seq;
        let p = &ev["payload"];
        assert_eq!(p["seq"], i as u64 + 1, "chat seq counts from 1");
        if p["state"] == "delta" {
            cumulative.push_str(p["deltaText"].as_str().unwrap());
            assert_eq!(
                p["message"]["content"][0]["text"].as_str().unwrap(),
                cumulative,
                "message is cumulative"
            );
        }
    }
    assert_eq!(
        events.last().unwrap()["payload"]["message"]["content"][0]["text"]
            .as_str()
            .unwrap(),
        cumulative
    );
}

#[tokio::test]
async fn frame_seq_has_no_gaps_for_protocol_4() {
    let srv = start().await;
    let (mut c, _) = srv.client_v4(&srv.rw_key()).await;
    c.send_json(
        &json!({"type": "req", "id": "s", "method": "chat.send", "params": {"message": "/help"}}),
    )
    .await;
    let mut seqs = vec![1u64]; // the first tick, read by client_v4
    let mut finals = 0;
    while finals == 0 {
        let v = c.next_json().await;
        if let Some(s) = v["seq"].as_u64() {
            seqs.push(s);
        }
        if v["event"] == "chat" && v["payload"]["state"] == "final" {
            finals += 1;
        }
    }
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(
        seqs, expected,
        "every event after hello-ok has the next seq"
    );
}

#[tokio::test]
async fn chat_events_are_broadcast_to_every_reader_connection() {
    let srv = start().await;
    let key = srv.rw_key();
    let (mut sender, _) = srv.client_v4(&key).await;
    let (mut watcher, _) = srv.client_v3(&srv.key(&["operator.read"])).await;
    let sent = sender
        .call(
            "chat.send",
            json!({"sessionKey": "shared", "message": "/echo for everyone"}),
        )
        .await;
    let run_id = sent["runId"].as_str().unwrap();
    let seen = watcher.run_events(run_id).await;
    let fin = &seen.last().unwrap()["payload"];
    assert_eq!(
        (fin["state"].as_str(), fin["seq"].as_u64()),
        (Some("final"), Some(seen.len() as u64 - 1))
    );
    assert!(fin["message"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("for everyone"));
}

#[tokio::test]
async fn abort_and_kill_end_a_slow_run_with_aborted() {
    let srv = start().await;
    let key = srv.rw_key();
    let (mut c, _) = srv.client_v4(&key).await;
    for method in ["chat.abort", "chat.cancel"] {
        let run = c
            .call(
                "chat.send",
                json!({"sessionKey": "slow-a", "message": "/slow 20"}),
            )
            .await;
        let run_id = run["runId"].as_str().unwrap().to_string();
        let first = c.next_event("chat").await;
        assert_eq!(first["payload"]["state"], "delta");
        let r = c.call(method, json!({"sessionKey": "slow-a"})).await;
        assert_eq!(
            r,
            json!({"ok": true, "aborted": true, "runIds": [run_id]}),
            "{method}"
        );
        let events = c.run_events(&run_id).await;
        assert_eq!(events.last().unwrap()["payload"]["state"], "aborted");
    }
    let r = c.call("chat.abort", json!({"sessionKey": "slow-a"})).await;
    assert_eq!(
        r,
        json!({"ok": true, "aborted": false, "runIds": []}),
        "nothing left to abort"
    );

    // (`sessions.abort` has OpenClaw's own shape: bridge_session_control.rs.)
    for method in ["sessions.kill", "sessions_kill"] {
        let run = c
            .call(
                "sessions.send",
                json!({"sessionKey": "slow-k", "message": "/slow 20"}),
            )
            .await;
        let run_id = run["runId"].as_str().unwrap().to_string();
        c.next_event("chat").await;
        let r = c.call(method, json!({"key": "slow-k"})).await;
        assert_eq!(
            r,
            json!({"ok": true, "key": "slow-k", "sessionKey": "slow-k", "terminated": true, "activeAborted": 1}),
            "{method}"
        );
        let events = c.run_events(&run_id).await;
        assert_eq!(
            events.last().unwrap()["payload"]["state"],
            "aborted",
            "{method}"
        );
    }
    let r = c.call("sessions.kill", json!({"key": "slow-k"})).await;
    assert_eq!(
        (r["terminated"].as_bool(), r["activeAborted"].as_u64()),
        (Some(false), Some(0))
    );
}

#[tokio::test]
async fn a_failing_run_ends_in_error_with_an_error_message() {
    let srv = start().await;
    let (mut c, _) = srv.client_v4(&srv.rw_key()).await;
    let run = c.call("chat.send", json!({"message": "/fail"})).await;
    let events = c.run_events(run["runId"].as_str().unwrap()).await;
    let last = &events.last().unwrap()["payload"];
    assert_eq!(last["state"], "error");
    assert!(
        last["errorMessage"].as_str().is_some_and(|m| !m.is_empty()),
        "{last}"
    );
}

#[tokio::test]
async fn ticks_follow_the_configured_interval_and_protocol_4_gets_health_after_each() {
    let srv = start_with(|c| c.server.tick_interval_ms = 200).await;
    let key = srv.rw_key();
    let (mut c4, hello) = srv.client_v4(&key).await;
    assert_eq!(hello["policy"]["tickIntervalMs"], 200);
    let t0 = Instant::now();
    for _ in 0..3 {
        let tick = c4.next_event("tick").await;
        let health = c4.next_event("health").await;
        assert_eq!(health["payload"]["ok"], true);
        assert_eq!(health["seq"].as_u64(), tick["seq"].as_u64().map(|s| s + 1));
    }
    let elapsed = t0.elapsed();
    assert!(
        elapsed >= Duration::from_millis(400) && elapsed < Duration::from_millis(3000),
        "3 ticks at 200 ms took {elapsed:?}"
    );
    let (mut c3, _) = srv.client_v3(&key).await;
    c3.next_event("tick").await;
    c3.next_event("tick").await;
    assert!(
        !c3.events.iter().any(|e| e["event"] == "health"),
        "protocol 3 gets no health events: {:?}",
        c3.events
    );
}

#[tokio::test]
async fn presence_and_sessions_changed_events_reach_connected_clients() {
    let srv = start().await;
    let key = srv.rw_key();
    let (mut a, _) = srv.client_v4(&key).await;
    let (mut b, _) = srv.client_v3(&key).await;
    let presence = loop {
        let ev = a.next_event("presence").await;
        if ev["payload"]["presence"].as_array().unwrap().len() == 2 {
            break ev;
        }
    };
    let entry = &presence["payload"]["presence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["mode"] == "cli")
        .unwrap()
        .clone();
    for k in ["instanceId", "host", "mode", "platform", "version", "ts"] {
        assert!(entry.get(k).is_some(), "presence entry has {k}: {entry}");
    }
    b.call(
        "sessions.setLabel",
        json!({"sessionKey": "watched", "label": "W"}),
    )
    .await;
    let ev = loop {
        let ev = a.next_event("sessions.changed").await;
        if ev["payload"]["key"] == "watched" {
            break ev;
        }
    };
    let p = &ev["payload"];
    assert_eq!(
        (&p["key"], &p["sessionKey"], &p["reason"], &p["label"]),
        (
            &json!("watched"),
            &json!("watched"),
            &json!("created"),
            &json!("W")
        ),
        "{p}"
    );
    drop(b);
    let left = loop {
        let ev = a.next_event("presence").await;
        if ev["payload"]["presence"].as_array().unwrap().len() == 1 {
            break ev;
        }
    };
    assert_eq!(
        left["payload"]["presence"][0]["mode"], "cli",
        "the one left is this connection"
    );
}

#[tokio::test]
async fn revoking_the_key_closes_its_connections_with_1008() {
    let srv = start().await;
    let key = srv.rw_key();
    let other = srv.rw_key();
    let (mut c, _) = srv.client_v4(&key).await;
    let (mut bystander, _) = srv.client_v3(&other).await;
    let id = srv
        .engine
        .store()
        .api_keys_list()
        .unwrap()
        .into_iter()
        .find(|k| key.starts_with(&k.prefix))
        .unwrap()
        .id;
    assert!(
        microclaw_engine::ops::auth::key_revoke(&srv.engine, "test", id)
            .await
            .unwrap()
    );
    assert_eq!(c.expect_close().await, Some(1008));
    assert_eq!(
        bystander.call("health", json!({})).await["ok"],
        true,
        "other keys stay connected"
    );
}

#[tokio::test]
async fn a_graceful_stop_sends_shutdown_first() {
    let srv = start_with(|c| c.server.shutdown_grace_ms = 100).await;
    let (mut c, _) = srv.client_v4(&srv.rw_key()).await;
    let engine = srv.engine.clone();
    tokio::spawn(async move { engine.shutdown("maintenance").await });
    let ev = c.next_event("shutdown").await;
    assert_eq!(ev["payload"]["reason"], "maintenance");
    assert!(ev["seq"].is_u64());
    assert_eq!(
        c.expect_close().await,
        Some(1001),
        "the connection closes once runs had their grace"
    );
}
