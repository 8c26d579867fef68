//! OpenClaw's `agent` / `agent.wait` and the `agent` event stream over a real WebSocket, in
//! protocols 3 and 4 (openclaw-methods.md §1), driven by the built-in agent's `/echo`,
//! `/slow` and `/fail`.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::*;
use microclaw_core::{Config, ManualClock, SharedClock};
use microclaw_engine::{Engine, EngineOptions};
use serde_json::{json, Value};
use std::sync::Arc;

/// Every `agent` event of `run_id` up to its lifecycle end/error (buffered ones first).
async fn agent_events(c: &mut Client, run_id: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let ev = c.next_event("agent").await;
        let p = ev["payload"].clone();
        if p["runId"] != run_id {
            continue;
        }
        let end = p["stream"] == "lifecycle" && p["data"]["phase"] != "start";
        out.push(p);
        if end {
            return out;
        }
    }
}

/// Sends `agent` and returns (request id, first response frame).
async fn agent_call(c: &mut Client, params: Value) -> (String, Value) {
    let id = c.call_frame_id("agent", params).await;
    let first = c.response_for(&id).await;
    (id, first)
}

/// Asserts no further response with `id` arrives before the answer to a later `ping`.
async fn assert_single_frame(c: &mut Client, id: &str) {
    let ping = c.call_frame_id("ping", json!({})).await;
    loop {
        let v = c.next_json().await;
        assert!(
            !(v["type"] == "res" && v["id"] == id),
            "a second frame: {v}"
        );
        if v["type"] == "res" && v["id"] == ping {
            return;
        }
        if v["type"] == "event" {
            c.events.push_back(v);
        }
    }
}

#[tokio::test]
async fn agent_acks_then_sends_the_final_with_the_same_id_and_streams_agent_events() {
    let srv = start().await;
    for (mut c, proto) in both(&srv).await {
        let key = format!("echo-{proto}");
        let session = format!("agent-{proto}");
        let (id, ack) = agent_call(
            &mut c,
            json!({"message": "/echo hello agent", "idempotencyKey": key,
                   "sessionKey": session, "deliver": false, "someFutureParam": {"x": 1}}),
        )
        .await;
        assert_eq!(ack["ok"], true, "{proto}: {ack}");
        let a = &ack["payload"];
        assert_eq!(
            (
                a["runId"].as_str(),
                a["status"].as_str(),
                a["agentId"].as_str()
            ),
            (Some(key.as_str()), Some("accepted"), Some("builtin")),
            "{proto}: {a}"
        );
        assert_eq!(a["sessionKey"], session.as_str());
        assert!(a["acceptedAt"].as_i64().unwrap() > 0);
        assert!(a.get("sessionId").is_none(), "no sessionId in the ack");

        let fin = c.response_for(&id).await;
        assert_eq!(fin["ok"], true, "{proto}: {fin}");
        let f = &fin["payload"];
        assert_eq!(
            (
                f["runId"].as_str(),
                f["status"].as_str(),
                f["summary"].as_str()
            ),
            (Some(key.as_str()), Some("ok"), Some("completed")),
            "{proto}: {f}"
        );
        assert!(f.get("stopReason").is_none());
        assert_eq!(f["result"]["payloads"], json!([{"text": "hello agent"}]));
        let meta = &f["result"]["meta"];
        assert!(meta["durationMs"].is_u64(), "{meta}");
        let am = &meta["agentMeta"];
        assert_eq!(
            (am["provider"].as_str(), am["model"].as_str()),
            (Some("microclaw"), Some("builtin-operator"))
        );
        assert!(am["usage"]["input"].as_u64().unwrap() > 0, "{am}");
        assert!(am["usage"]["output"].as_u64().unwrap() > 0, "{am}");
        let hist = c.call("chat.history", json!({"sessionKey": session})).await;
        assert_eq!(
            am["sessionId"], hist["sessionId"],
            "the session's generation"
        );

        let evs = agent_events(&mut c, &key).await;
        let streams: Vec<&str> = evs.iter().map(|e| e["stream"].as_str().unwrap()).collect();
        assert_eq!(streams.first(), Some(&"lifecycle"), "{proto}: {evs:?}");
        assert_eq!(evs[0]["data"]["phase"], "start");
        assert!(evs[0]["data"]["startedAt"].is_i64());
        assert!(streams.contains(&"assistant"), "{streams:?}");
        let last = evs.last().unwrap();
        assert_eq!(last["data"]["phase"], "end", "{last}");
        assert!(last["data"]["endedAt"].as_i64() >= last["data"]["startedAt"].as_i64());
        let seqs: Vec<u64> = evs.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        assert_eq!(
            seqs,
            (1..=evs.len() as u64).collect::<Vec<_>>(),
            "per-run seq from 1"
        );
        let said: String = evs
            .iter()
            .filter(|e| e["stream"] == "assistant")
            .map(|e| e["data"]["delta"].as_str().unwrap())
            .collect();
        assert_eq!(said, "hello agent");
        let a1 = evs.iter().find(|e| e["stream"] == "assistant").unwrap();
        assert!(
            a1["data"]["text"].is_string(),
            "cumulative text while short"
        );
        for e in &evs {
            assert_eq!(e["sessionKey"], session.as_str());
            assert_eq!(e["agentId"], "builtin");
            assert_eq!(e["sessionId"], hist["sessionId"]);
            assert!(e["ts"].as_i64().unwrap() > 0);
        }
        // The same run's chat events ride beside them.
        let chat = c.run_events(&key).await;
        assert_eq!(chat.last().unwrap()["payload"]["state"], "final");
    }
}

#[tokio::test]
async fn a_repeated_key_is_in_flight_while_live_and_the_cached_final_after() {
    let srv = start().await;
    for (mut c, proto) in both(&srv).await {
        let key = format!("dup-{proto}");
        let (id, ack) = agent_call(
            &mut c,
            json!({"message": "/slow 0.6", "idempotencyKey": key, "sessionKey": key}),
        )
        .await;
        assert_eq!(ack["payload"]["status"], "accepted");
        let (dup_id, dup) = agent_call(
            &mut c,
            json!({"message": "/slow 0.6", "idempotencyKey": key, "sessionKey": key}),
        )
        .await;
        assert_eq!(
            dup["payload"],
            json!({"runId": key, "status": "in_flight"}),
            "{proto}"
        );
        let fin = c.response_for(&id).await;
        assert_eq!(fin["payload"]["status"], "ok", "{fin}");
        assert_single_frame(&mut c, &dup_id).await;
        // After completion: the cached final, one frame, even from another session key.
        let (again_id, again) = agent_call(
            &mut c,
            json!({"message": "/echo other", "idempotencyKey": key}),
        )
        .await;
        assert_eq!(again["payload"], fin["payload"], "{proto}");
        assert_single_frame(&mut c, &again_id).await;
    }
}

#[tokio::test]
async fn reset_commands_need_admin_and_start_a_new_generation() {
    let srv = start().await;
    let admin = srv.key(&["operator.admin"]);
    for proto in ["v3", "v4"] {
        let (mut w, _) = if proto == "v3" {
            srv.client_v3(&srv.rw_key()).await
        } else {
            srv.client_v4(&srv.rw_key()).await
        };
        let session = format!("reset-{proto}");
        let err = w
            .call_err(
                "agent",
                json!({"message": "/RESET", "idempotencyKey": "r1", "sessionKey": session}),
            )
            .await;
        assert_eq!(err["code"], "FORBIDDEN", "{proto}: {err}");
        assert_eq!(err["details"]["code"], "MISSING_SCOPE", "{err}");
        assert_eq!(err["details"]["missingScope"], "operator.admin", "{err}");

        let (mut a, _) = if proto == "v3" {
            srv.client_v3(&admin).await
        } else {
            srv.client_v4(&admin).await
        };
        let (id, _) = agent_call(
            &mut a,
            json!({"message": "/echo before", "idempotencyKey": format!("b-{proto}"), "sessionKey": session}),
        )
        .await;
        a.response_for(&id).await;
        let old = a.call("chat.history", json!({"sessionKey": session})).await;
        assert_eq!(old["messages"].as_array().unwrap().len(), 2);
        for (cmd, text) in [
            ("/reset", "✅ Session reset."),
            ("/new", "✅ New session started."),
        ] {
            let (id, res) = agent_call(
                &mut a,
                json!({"message": cmd, "idempotencyKey": format!("{cmd}-{proto}"), "sessionKey": session}),
            )
            .await;
            let p = &res["payload"];
            assert_eq!(
                (p["status"].as_str(), p["summary"].as_str()),
                (Some("ok"), Some("completed")),
                "{proto} {cmd}: {p}"
            );
            assert_eq!(
                p["result"]["payloads"],
                json!([{"text": text, "isStatusNotice": true}])
            );
            assert_eq!(p["result"]["meta"]["durationMs"], 0);
            let now = a.call("chat.history", json!({"sessionKey": session})).await;
            assert_eq!(now["messages"], json!([]), "transcript empty");
            assert_eq!(
                p["result"]["meta"]["agentMeta"]["sessionId"],
                now["sessionId"]
            );
            assert_ne!(now["sessionId"], old["sessionId"], "a new generation");
            assert_single_frame(&mut a, &id).await;
        }
    }
}

#[tokio::test]
async fn bad_params_are_named_and_overrides_need_admin() {
    let srv = start().await;
    for (mut c, proto) in both(&srv).await {
        let e = c.call_err("agent", json!({"message": "/echo x"})).await;
        assert_eq!(e["code"], "INVALID_REQUEST", "{proto}: {e}");
        assert!(
            e["message"].as_str().unwrap().contains("idempotencyKey"),
            "{e}"
        );
        let e = c.call_err("agent", json!({"idempotencyKey": "k"})).await;
        assert!(e["message"].as_str().unwrap().contains("message"), "{e}");
        let e = c
            .call_err(
                "agent",
                json!({"message": "/echo x", "idempotencyKey": "k", "agentId": "nope"}),
            )
            .await;
        assert_eq!(
            e["message"],
            "invalid agent params: unknown agent id \"nope\""
        );
        let e = c
            .call_err(
                "agent",
                json!({"message": "/echo x", "idempotencyKey": "k", "model": "gpt"}),
            )
            .await;
        assert_eq!(e["code"], "INVALID_REQUEST");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .ends_with("provider/model overrides are not authorized for this caller."),
            "{e}"
        );
        let e = c
            .call_err(
                "agent",
                json!({"message": "/echo x", "idempotencyKey": "k", "timeout": -1}),
            )
            .await;
        assert!(e["message"].as_str().unwrap().contains("timeout"), "{e}");
        let e = c.call_err("agent.wait", json!({})).await;
        assert!(e["message"].as_str().unwrap().contains("runId"), "{e}");
    }
    let (_, hello) = srv.client_v4(&srv.rw_key()).await;
    let methods = hello["features"]["methods"].as_array().unwrap().clone();
    for m in ["agent", "agent.wait"] {
        assert!(methods.iter().any(|n| n == m), "hello-ok advertises {m}");
    }
}

#[tokio::test]
async fn failed_and_timed_out_runs_end_with_lifecycle_error_and_their_status() {
    let srv = start().await;
    for (mut c, proto) in both(&srv).await {
        let key = format!("fail-{proto}");
        let (id, _) = agent_call(&mut c, json!({"message": "/fail", "idempotencyKey": key})).await;
        let fin = c.response_for(&id).await;
        let f = &fin["payload"];
        assert_eq!(
            (
                f["status"].as_str(),
                f["summary"].as_str(),
                f["stopReason"].as_str()
            ),
            (Some("error"), Some("failed"), Some("error")),
            "{proto}: {f}"
        );
        assert!(f["result"]["meta"]["error"]
            .as_str()
            .unwrap()
            .contains("simulated failure"));
        let evs = agent_events(&mut c, &key).await;
        let last = evs.last().unwrap();
        assert_eq!(last["data"]["phase"], "error", "{last}");
        assert!(last["data"]["error"]
            .as_str()
            .unwrap()
            .contains("simulated failure"));
        let w = c.call("agent.wait", json!({"runId": key})).await;
        assert_eq!(
            (w["status"].as_str(), w["stopReason"].as_str()),
            (Some("error"), Some("error")),
            "{w}"
        );
        assert!(w["error"].as_str().unwrap().contains("simulated failure"));

        // `timeout` is in seconds: a 5 s reply with timeout 1 ends as "timeout" after ~1 s.
        let key = format!("slow-{proto}");
        let t0 = std::time::Instant::now();
        let (id, _) = agent_call(
            &mut c,
            json!({"message": "/slow 5", "idempotencyKey": key, "sessionKey": key, "timeout": 1}),
        )
        .await;
        let fin = c.response_for(&id).await;
        let took = t0.elapsed();
        let f = &fin["payload"];
        assert_eq!(
            (
                f["status"].as_str(),
                f["summary"].as_str(),
                f["stopReason"].as_str()
            ),
            (Some("timeout"), Some("aborted"), Some("timeout")),
            "{proto}: {f}"
        );
        assert_eq!(f["providerStarted"], true);
        assert!(took < std::time::Duration::from_secs(4), "{took:?}");
        let evs = agent_events(&mut c, &key).await;
        let last = evs.last().unwrap();
        assert_eq!(
            (
                last["data"]["phase"].as_str(),
                last["data"]["stopReason"].as_str()
            ),
            (Some("error"), Some("timeout"))
        );
    }
}

#[tokio::test]
async fn agent_wait_answers_finished_running_queued_and_unknown_runs() {
    let srv = start().await;
    for (mut c, proto) in both(&srv).await {
        // Unknown ids are not an error.
        let w = c
            .call(
                "agent.wait",
                json!({"runId": "never-seen", "timeoutMs": 50}),
            )
            .await;
        assert_eq!(
            w,
            json!({"runId": "never-seen", "status": "timeout"}),
            "{proto}"
        );

        // Running: waits timeoutMs, then timeout (nothing else).
        let key = format!("long-{proto}");
        agent_call(
            &mut c,
            json!({"message": "/slow 1.5", "idempotencyKey": key, "sessionKey": key}),
        )
        .await;
        let queued_key = format!("queued-{proto}");
        let (_, q) = agent_call(
            &mut c,
            json!({"message": "/echo after", "idempotencyKey": queued_key, "sessionKey": key}),
        )
        .await;
        assert_eq!(q["payload"]["status"], "accepted");
        let t0 = std::time::Instant::now();
        let w = c
            .call("agent.wait", json!({"runId": key, "timeoutMs": 150}))
            .await;
        assert!(t0.elapsed() >= std::time::Duration::from_millis(140));
        assert_eq!(w, json!({"runId": key, "status": "timeout"}), "{proto}");
        let w = c
            .call("agent.wait", json!({"runId": queued_key, "timeoutMs": 50}))
            .await;
        assert_eq!(
            w,
            json!({"runId": queued_key, "status": "pending", "timeoutPhase": "queue", "providerStarted": false})
        );
        // Then both finish: ok, with times.
        let w = c
            .call("agent.wait", json!({"runId": key, "timeoutMs": 10_000}))
            .await;
        assert_eq!(w["status"], "ok", "{w}");
        assert!(w["startedAt"].as_i64().unwrap() <= w["endedAt"].as_i64().unwrap());
        assert!(w.get("error").is_none() && w.get("stopReason").is_none());
        let w = c
            .call(
                "agent.wait",
                json!({"runId": queued_key, "timeoutMs": 10_000}),
            )
            .await;
        assert_eq!(w["status"], "ok", "{w}");
        // After the finish, at once.
        let w = c
            .call("agent.wait", json!({"runId": key, "timeoutMs": 0}))
            .await;
        assert_eq!(w["status"], "ok");

        // A chat.send run is waited for by its runId too.
        let sent = c
            .call(
                "chat.send",
                json!({"sessionKey": format!("chat-{proto}"), "message": "/echo via chat"}),
            )
            .await;
        let run_id = sent["runId"].as_str().unwrap();
        let w = c.call("agent.wait", json!({"runId": run_id})).await;
        assert_eq!(w["status"], "ok", "{w}");
    }
}

#[tokio::test]
async fn finished_snapshots_expire_after_ten_minutes_by_the_engine_clock() {
    let clock = ManualClock::new(1_700_000_000_000);
    let shared: SharedClock = Arc::new(clock.clone());
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineOptions {
        data_dir: dir.path().to_path_buf(),
        config: Config::default(),
        clock: Some(shared),
    })
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(microclaw_gateway::serve(
        listener,
        engine.clone(),
        std::future::pending(),
    ));
    let token = microclaw_engine::ops::auth::key_create_blocking(
        &engine,
        "test",
        "agent-test",
        &["operator.read".to_string(), "operator.write".to_string()],
        None,
    )
    .unwrap()
    .api_key;
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .unwrap();
    let mut c = Client::from_ws(ws);
    c.read_challenge().await;
    let hello = c.connect(openclaw_connect(&token, None)).await;
    assert_eq!(hello["ok"], true, "{hello}");

    let (id, _) = agent_call(
        &mut c,
        json!({"message": "/echo kept", "idempotencyKey": "exp"}),
    )
    .await;
    let fin = c.response_for(&id).await;
    assert_eq!(fin["payload"]["status"], "ok");
    clock.advance_ms(9 * 60 * 1000);
    let w = c
        .call("agent.wait", json!({"runId": "exp", "timeoutMs": 0}))
        .await;
    assert_eq!(w["status"], "ok", "kept at 9 minutes: {w}");
    clock.advance_ms(61 * 1000);
    let w = c
        .call("agent.wait", json!({"runId": "exp", "timeoutMs": 0}))
        .await;
    assert_eq!(
        w,
        json!({"runId": "exp", "status": "timeout"}),
        "gone after 10 minutes"
    );
    // The key is still spent: the store answers with the run's end, and nothing new runs.
    let (id, again) = agent_call(
        &mut c,
        json!({"message": "/echo new", "idempotencyKey": "exp"}),
    )
    .await;
    assert_eq!(
        (
            again["payload"]["status"].as_str(),
            again["payload"]["summary"].as_str()
        ),
        (Some("ok"), Some("completed")),
        "{again}"
    );
    assert_single_frame(&mut c, &id).await;
    let hist = c.call("chat.history", json!({})).await;
    assert_eq!(
        hist["messages"].as_array().unwrap().len(),
        2,
        "no second run"
    );
}
