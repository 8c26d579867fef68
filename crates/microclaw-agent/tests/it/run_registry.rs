//! The run registry against a real temp SQLite store and real metrics, driving the built-in agent.

use crate::common::*;
use microclaw_agent::{ChatState, StartRun};
use microclaw_core::ErrorCode;
use std::time::{Duration, Instant};

fn send(key: &str, message: &str) -> StartRun {
    StartRun {
        session_key: key.into(),
        message: message.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn echo_streams_chunks_in_order_from_seq_1_and_persists_the_final_reply() {
    let f = fixture(sessions_cfg(4, 60));
    let mut rx = f.registry.subscribe();
    let reply =
        "streaming is visible when the reply arrives in several chunks, one after the other";
    let out = f
        .registry
        .start(StartRun {
            idempotency_key: Some("k-echo".into()),
            ..send("ops", &format!("/echo {reply}"))
        })
        .await
        .unwrap();
    assert!(!out.existing);
    let run_id = out.run_id.clone();
    drop(out);
    let events = collect_run(&mut rx, &run_id).await;
    assert_well_ordered(&events);
    assert!(
        events.len() >= 3,
        "a {}-char reply streams as several deltas, got {}",
        reply.len(),
        events.len()
    );
    let last = events.last().unwrap();
    assert_eq!(last.state, ChatState::Final);
    assert_eq!(last.text_str(), reply, "final carries the whole reply");
    assert_eq!(last.session_key, "ops");
    assert_eq!(
        messages(&f.store, "ops"),
        vec![
            ("user".to_string(), format!("/echo {reply}")),
            ("assistant".to_string(), reply.to_string())
        ],
        "the user message and the reply are persisted"
    );
    let row = f
        .store
        .run_by_idempotency("ops", "k-echo")
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.run_id.as_str(), row.state.as_str()),
        (run_id.as_str(), "final")
    );
    let outcome = wait_outcome(&f.registry, &run_id).await;
    assert_eq!(
        (outcome.state, outcome.text.as_str()),
        (ChatState::Final, reply)
    );
    assert!(!f.registry.has_active("ops") && f.registry.active_runs() == 0);
}

#[tokio::test]
async fn no_event_is_broadcast_before_the_start_outcome_is_released() {
    let f = fixture(sessions_cfg(4, 60));
    let mut rx = f.registry.subscribe();
    let mut out = f.registry.start(send("main", "/echo hello")).await.unwrap();
    let early = tokio::time::timeout(Duration::from_millis(150), rx.recv()).await;
    assert!(
        early.is_err(),
        "the caller must be able to send its response before the first event"
    );
    assert!(
        f.registry.has_active("main"),
        "the run is in flight while held"
    );
    out.release();
    let events = collect_run(&mut rx, &out.run_id).await;
    assert_eq!(events.last().unwrap().text_str(), "hello");
}

#[tokio::test]
async fn fail_ends_in_error_with_the_simulated_message_and_counts_one_error() {
    let f = fixture(sessions_cfg(4, 60));
    let mut rx = f.registry.subscribe();
    let run_id = f
        .registry
        .start(send("main", "/fail"))
        .await
        .unwrap()
        .run_id
        .clone();
    let events = collect_run(&mut rx, &run_id).await;
    assert_well_ordered(&events);
    let last = events.last().unwrap();
    assert_eq!(last.state, ChatState::Error);
    assert_eq!(
        last.error_message.as_deref(),
        Some("simulated failure (/fail)")
    );
    assert_eq!(metric(&f.metrics, "request_error"), 1);
    assert_eq!(metric(&f.metrics, "request_ok"), 0);
}

async fn slow_run_is_stopped_within_a_second(use_kill: bool) {
    let f = fixture(sessions_cfg(4, 60));
    let mut rx = f.registry.subscribe();
    let run_id = f
        .registry
        .start(send("s1", "/slow 10"))
        .await
        .unwrap()
        .run_id
        .clone();
    // Wait for the first chunk so there is partial text to keep.
    let first = tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((first.seq, first.state), (1, ChatState::Delta));
    let t0 = Instant::now();
    if use_kill {
        assert_eq!(f.registry.kill("s1"), 1, "kill reports the runs it stopped");
    } else {
        assert_eq!(f.registry.abort("s1", Some(&run_id)), vec![run_id.clone()]);
    }
    let mut events = vec![first];
    events.extend(collect_run(&mut rx, &run_id).await);
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "a /slow run stops within 1 s, took {:?}",
        t0.elapsed()
    );
    assert_well_ordered(&events);
    let last = events.last().unwrap();
    assert_eq!(last.state, ChatState::Aborted);
    assert_eq!(
        last.error_message.as_deref(),
        Some(if use_kill { "killed" } else { "aborted" })
    );
    let msgs = messages(&f.store, "s1");
    assert_eq!(
        msgs.len(),
        2,
        "the partial reply of an aborted run is persisted"
    );
    assert!(msgs[1].1.starts_with("[slow]"), "{:?}", msgs[1]);
    let page = f.store.messages_page("s1", 10, None).unwrap().unwrap().0;
    assert_eq!(
        (
            page[1].stop_reason.as_deref(),
            page[1].error_message.as_deref()
        ),
        (
            Some("aborted"),
            Some(if use_kill { "killed" } else { "aborted" })
        ),
        "the stored reply says why it stopped"
    );
    assert_eq!(
        f.registry.abort("s1", None),
        Vec::<String>::new(),
        "nothing left to abort"
    );
    assert_eq!(
        metric(&f.metrics, "request_ok") + metric(&f.metrics, "request_error"),
        0,
        "aborted counts as neither"
    );
}

#[tokio::test]
async fn slow_run_is_aborted_within_a_second() {
    slow_run_is_stopped_within_a_second(false).await;
}

#[tokio::test]
async fn slow_run_is_killed_within_a_second() {
    slow_run_is_stopped_within_a_second(true).await;
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_first_run_and_starts_nothing() {
    let f = fixture(sessions_cfg(4, 60));
    let mut rx = f.registry.subscribe();
    let req = StartRun {
        idempotency_key: Some("idem-1".into()),
        ..send("main", "/echo once")
    };
    let first = f.registry.start(req.clone()).await.unwrap();
    let again = f.registry.start(req.clone()).await.unwrap();
    assert!(
        again.existing,
        "a repeat while the first run is in flight is recognised"
    );
    assert_eq!(again.run_id, first.run_id);
    let run_id = first.run_id.clone();
    drop(first);
    collect_run(&mut rx, &run_id).await;
    let after = f.registry.start(req.clone()).await.unwrap();
    assert!(
        after.existing && after.run_id == run_id,
        "after the run ended the store still answers"
    );
    assert_eq!(
        messages(&f.store, "main").len(),
        2,
        "only one user message and one reply were stored"
    );
    let other = f
        .registry
        .start(StartRun {
            session_key: "other".into(),
            ..req
        })
        .await
        .unwrap();
    assert!(!other.existing, "idempotency keys are per session");
}

#[tokio::test]
async fn the_run_timeout_ends_a_run_in_error() {
    let f = fixture(sessions_cfg(4, 60));
    let mut rx = f.registry.subscribe();
    let t0 = Instant::now();
    let run_id = f
        .registry
        .start(StartRun {
            timeout_secs: Some(1),
            ..send("t", "/slow 10")
        })
        .await
        .unwrap()
        .run_id
        .clone();
    let events = collect_run(&mut rx, &run_id).await;
    let elapsed = t0.elapsed();
    assert!(
        elapsed >= Duration::from_millis(950) && elapsed < Duration::from_secs(3),
        "took {elapsed:?}"
    );
    let last = events.last().unwrap();
    assert_eq!(last.state, ChatState::Error);
    assert_eq!(
        last.error_message.as_deref(),
        Some("run timed out after 1 s")
    );
    assert_eq!(last.stop_reason, Some(microclaw_agent::StopReason::Timeout));
    let page = f.store.messages_page("t", 10, None).unwrap().unwrap().0;
    assert_eq!(
        page.last().and_then(|m| m.stop_reason.as_deref()),
        Some("timeout"),
        "a timed-out run leaves its partial reply marked timeout"
    );
    assert_eq!(
        metric(&f.metrics, "request_error"),
        1,
        "a timeout counts against the success SLO"
    );
}

#[tokio::test]
async fn shutdown_aborts_what_outlives_the_grace_and_refuses_new_runs() {
    let f = fixture(sessions_cfg(4, 60));
    let mut rx = f.registry.subscribe();
    let slow = f
        .registry
        .start(send("a", "/slow 30"))
        .await
        .unwrap()
        .run_id
        .clone();
    let quick = f
        .registry
        .start(send("b", "/echo quick"))
        .await
        .unwrap()
        .run_id
        .clone();
    let t0 = Instant::now();
    f.registry.shutdown(Duration::from_millis(400)).await;
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "shutdown is bounded by grace + a short wait"
    );
    assert_eq!(f.registry.active_runs(), 0);
    let quick_out = wait_outcome(&f.registry, &quick).await;
    assert_eq!(
        quick_out.state,
        ChatState::Final,
        "a run that ends within the grace finishes normally"
    );
    let slow_out = wait_outcome(&f.registry, &slow).await;
    assert_eq!(slow_out.state, ChatState::Aborted);
    assert_eq!(
        slow_out.error_message.as_deref(),
        Some("gateway shutting down")
    );
    let mut seen = 0;
    while let Ok(ev) = rx.try_recv() {
        seen += usize::from(ev.run_id == slow && ev.state == ChatState::Aborted);
    }
    assert_eq!(seen, 1, "the aborted run broadcast its terminal event");
    let err = f.registry.start(send("c", "/echo late")).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unavailable);
}

#[tokio::test]
async fn run_metrics_are_recorded_once_per_run() {
    let f = fixture(sessions_cfg(4, 60));
    let mut rx = f.registry.subscribe();
    for msg in ["/echo one two three", "/fail", "/slow 5"] {
        let run_id = f
            .registry
            .start(send("m", msg))
            .await
            .unwrap()
            .run_id
            .clone();
        if msg.starts_with("/slow") {
            let _first = tokio::time::timeout(WAIT, rx.recv())
                .await
                .unwrap()
                .unwrap();
            f.registry.abort("m", None);
        }
        collect_run(&mut rx, &run_id).await;
    }
    assert_eq!(metric(&f.metrics, "request_ok"), 1);
    assert_eq!(metric(&f.metrics, "request_error"), 1);
    assert_eq!(
        metric_hist_count(&f.metrics, "request_latency_ms"),
        2,
        "final and error runs have one latency sample each (aborted runs none)"
    );
    assert_eq!(
        metric(&f.metrics, "request_aborted"),
        1,
        "the aborted run is counted once"
    );
    assert_eq!(
        metric_hist_count(&f.metrics, "first_token_latency_ms"),
        2,
        "runs with a delta have a first token"
    );
    assert_eq!(
        metric(&f.metrics, "active_runs"),
        0,
        "started and finished pair up"
    );
    assert_eq!(metric(&f.metrics, "active_sessions"), 0);
    assert!(
        metric(&f.metrics, "llm_output_tokens") > 0,
        "the built-in agent reports estimated tokens"
    );
}

#[tokio::test]
async fn a_paused_session_refuses_new_runs_until_resumed() {
    let f = fixture(sessions_cfg(4, 60));
    assert!(f.registry.pause("p"));
    assert!(!f.registry.pause("p"), "pausing twice changes nothing");
    let err = f.registry.start(send("p", "/echo hi")).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert!(
        err.message.contains("paused") && err.message.contains("resume"),
        "{}",
        err.message
    );
    assert!(
        f.store.session_get("p").unwrap().is_none(),
        "a refused run stores nothing"
    );
    assert!(f.registry.resume("p"));
    assert!(f.registry.start(send("p", "/echo hi")).await.is_ok());
}

#[tokio::test]
async fn blank_messages_and_unknown_agents_are_refused_saying_what_is_expected() {
    let f = fixture(sessions_cfg(4, 60));
    let err = f.registry.start(send("main", "   ")).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
    assert!(err.message.contains("non-empty"), "{}", err.message);
    let err = f
        .registry
        .start(StartRun {
            agent_id: Some("gpt-9".into()),
            ..send("main", "hi")
        })
        .await
        .unwrap_err();
    assert!(
        err.message.contains("gpt-9") && err.message.contains("builtin"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn status_summary_renders_the_engine_status_and_help_lists_commands() {
    let f = fixture(sessions_cfg(4, 60));
    let status = f
        .registry
        .start(send("main", "status summary"))
        .await
        .unwrap()
        .run_id
        .clone();
    let help = f
        .registry
        .start(send("main", "/help"))
        .await
        .unwrap()
        .run_id
        .clone();
    let text = wait_outcome(&f.registry, &status).await.text;
    for want in [
        "version: 9.9.9-test",
        "uptime: 2m 05s",
        "active runs: 1",
        "connections: 2",
        "state: ok",
    ] {
        assert!(
            text.contains(want),
            "status summary must show '{want}':\n{text}"
        );
    }
    let help = wait_outcome(&f.registry, &help).await.text;
    for cmd in ["/status", "/echo", "/slow", "/fail"] {
        assert!(help.contains(cmd), "/help lists {cmd}");
    }
    let about = f
        .registry
        .start(send("main", "hello there"))
        .await
        .unwrap()
        .run_id
        .clone();
    let about = wait_outcome(&f.registry, &about).await.text;
    assert!(
        about.contains("built-in operator agent") && about.contains("[agents]"),
        "{about}"
    );
}

#[tokio::test]
async fn agents_list_and_models_list_always_include_builtin() {
    let f = fixture(sessions_cfg(4, 60));
    let agents = f.registry.agents().list();
    assert_eq!(agents.len(), 1);
    assert_eq!(
        (agents[0].id.as_str(), agents[0].status.as_str()),
        ("builtin", "ready")
    );
    let models = f.registry.agents().models();
    assert_eq!(models[0].provider, "microclaw");
}

#[tokio::test]
async fn an_outcome_held_while_waiting_is_released_by_the_safety_timeout() {
    let f = fixture(sessions_cfg(4, 60));
    let held = f.registry.start(send("main", "/echo held")).await.unwrap();
    let t0 = Instant::now();
    let out = wait_outcome(&f.registry, &held.run_id).await;
    assert_eq!(out.text, "held", "the run still completes");
    assert!(
        t0.elapsed() >= microclaw_agent::RELEASE_TIMEOUT,
        "it waited for the release gate first"
    );
    drop(held);
}
