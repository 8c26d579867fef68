//! The per-session run queue and the global cap: one active run per session, FIFO followups,
//! `interrupt`, the queue bound, kill dropping the queue.

use crate::common::*;
use microclaw_agent::{ChatState, QueueMode, StartRun, StartStatus};
use microclaw_core::ErrorCode;

fn send(key: &str, message: &str) -> StartRun {
    StartRun {
        session_key: key.into(),
        message: message.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn two_messages_back_to_back_run_in_order_without_interleaving() {
    let f = fixture(sessions_cfg(4, 60));
    let mut rx = f.registry.subscribe();
    let first = f.registry.start(send("q", "/slow 0.6")).await.unwrap();
    let second = f
        .registry
        .start(send("q", "/echo second reply"))
        .await
        .unwrap();
    assert_eq!(first.status, StartStatus::Started);
    assert_eq!(
        (second.status, second.status.as_str(), second.queue_position),
        (StartStatus::Accepted, "accepted", 0)
    );
    assert_eq!((f.registry.active_runs(), f.registry.queued_runs()), (1, 1));
    let (a, b) = (first.run_id.clone(), second.run_id.clone());
    drop((first, second));
    // Every event of the second run comes after the first run's terminal event.
    let mut order = Vec::new();
    tokio::time::timeout(WAIT, async {
        loop {
            let ev = rx.recv().await.unwrap();
            let done = ev.run_id == b && ev.state.is_terminal();
            order.push((ev.run_id == a, ev.state.is_terminal()));
            if done {
                break;
            }
        }
    })
    .await
    .unwrap();
    let first_end = order.iter().position(|&(is_a, t)| is_a && t).unwrap();
    assert!(
        order[first_end + 1..].iter().all(|&(is_a, _)| !is_a),
        "no event of the first run after its end"
    );
    assert!(
        order[..first_end].iter().all(|&(is_a, _)| is_a),
        "no event of the queued run before the first ends: {order:?}"
    );
    let msgs = messages(&f.store, "q");
    let roles: Vec<&str> = msgs.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    assert!(
        msgs[1].1.contains("[slow]") && msgs[3].1 == "second reply",
        "{msgs:?}"
    );
}

#[tokio::test]
async fn a_full_queue_answers_unavailable_and_kill_drops_the_queue() {
    let f = fixture(sessions_cfg(2, 60));
    let active = f
        .registry
        .start(send("busy", "/slow 10"))
        .await
        .unwrap()
        .run_id
        .clone();
    let q1 = f.registry.start(send("busy", "/echo one")).await.unwrap();
    let q2 = f.registry.start(send("busy", "/echo two")).await.unwrap();
    assert_eq!((q1.queue_position, q2.queue_position), (0, 1));
    let err = f
        .registry
        .start(send("busy", "/echo three"))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Unavailable);
    assert!(err.code.retryable() && err.retry_after_ms.is_some_and(|ms| ms > 0));
    assert!(
        err.message.contains("'busy'") && err.message.contains("max_queued_per_session = 2"),
        "{}",
        err.message
    );
    assert!(
        f.registry.start(send("calm", "/echo ok")).await.is_ok(),
        "the bound is per session"
    );
    assert_eq!(
        f.registry.kill("busy"),
        3,
        "the active run and both queued ones"
    );
    for q in [&q1, &q2] {
        let out = wait_outcome(&f.registry, &q.run_id).await;
        assert_eq!((out.state, out.persisted), (ChatState::Aborted, false));
    }
    let out = wait_outcome(&f.registry, &active).await;
    assert_eq!((out.state, out.persisted), (ChatState::Aborted, true));
    let msgs = messages(&f.store, "busy");
    assert_eq!(msgs.len(), 2, "queued messages were never stored: {msgs:?}");
    assert_eq!(
        msgs[1].0, "assistant",
        "the killed run leaves its (empty) stop record"
    );
    assert_eq!(f.registry.queued_runs(), 0);
}

#[tokio::test]
async fn interrupt_aborts_the_active_run_and_runs_next() {
    let f = fixture(sessions_cfg(4, 60));
    let slow = f
        .registry
        .start(send("i", "/slow 10"))
        .await
        .unwrap()
        .run_id
        .clone();
    let waiting = f
        .registry
        .start(send("i", "/echo later"))
        .await
        .unwrap()
        .run_id
        .clone();
    let now = f
        .registry
        .start(StartRun {
            queue_mode: Some(QueueMode::Interrupt),
            ..send("i", "/echo now")
        })
        .await
        .unwrap();
    assert_eq!((now.status, now.queue_position), (StartStatus::Accepted, 0));
    let now_id = now.run_id.clone();
    drop(now);
    let out = wait_outcome(&f.registry, &slow).await;
    assert_eq!(out.state, ChatState::Aborted);
    assert!(out.error_message.unwrap().contains("interrupt"));
    assert_eq!(wait_outcome(&f.registry, &now_id).await.text, "now");
    assert_eq!(wait_outcome(&f.registry, &waiting).await.text, "later");
    let texts: Vec<String> = messages(&f.store, "i").into_iter().map(|m| m.1).collect();
    assert_eq!(texts[2..], ["/echo now", "now", "/echo later", "later"]);
    assert!(QueueMode::parse("steer").is_ok());
    let err = QueueMode::parse("sideways").unwrap_err();
    assert!(
        err.message.contains("followup, interrupt, steer, collect"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn runs_beyond_the_global_cap_wait_in_their_session_queue() {
    let mut cfg = sessions_cfg(4, 60);
    cfg.max_concurrent_runs = 1;
    let f = fixture(cfg);
    let a = f
        .registry
        .start(send("a", "/slow 10"))
        .await
        .unwrap()
        .run_id
        .clone();
    let b = f.registry.start(send("b", "/echo b ran")).await.unwrap();
    assert_eq!(b.status, StartStatus::Accepted, "no free slot: b waits");
    let b = b.run_id.clone();
    assert_eq!(f.registry.active_runs(), 1);
    assert!(
        f.store.session_get("b").unwrap().is_none(),
        "b is not stored yet"
    );
    f.registry.abort("a", None);
    assert_eq!(
        wait_outcome(&f.registry, &a).await.state,
        ChatState::Aborted
    );
    assert_eq!(wait_outcome(&f.registry, &b).await.text, "b ran");
    assert_eq!(f.registry.active_runs(), 0);
}

#[tokio::test]
async fn the_retired_inflight_key_is_read_as_the_queue_bound() {
    let mut cfg = sessions_cfg(16, 60);
    cfg.max_inflight_per_session = 1;
    assert_eq!(cfg.queue_bound(), 1);
    let f = fixture(cfg);
    f.registry.start(send("old", "/slow 10")).await.unwrap();
    f.registry.start(send("old", "/echo 1")).await.unwrap();
    let err = f.registry.start(send("old", "/echo 2")).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unavailable);
    f.registry.kill("old");
}
