//! Runs that respect their session: delete and reset while a run streams, the generation
//! guard on the final write, `sessions.changed` from the run path, pruning of the runs table.

use crate::common::*;
use microclaw_agent::{ChatState, RunRegistry, StartRun};
use parking_lot::Mutex;
use std::sync::Arc;

fn send(key: &str, message: &str) -> StartRun {
    StartRun {
        session_key: key.into(),
        message: message.into(),
        ..Default::default()
    }
}

/// Starts `/slow 10` in `key` and waits for its first delta (so there is partial text).
async fn streaming(f: &Fixture, key: &str) -> String {
    let mut rx = f.registry.subscribe();
    let run_id = f
        .registry
        .start(send(key, "/slow 10"))
        .await
        .unwrap()
        .run_id
        .clone();
    let first = tokio::time::timeout(WAIT, async {
        loop {
            let ev = rx.recv().await.unwrap();
            if ev.run_id == run_id {
                return ev;
            }
        }
    })
    .await
    .expect("the slow run streams");
    assert_eq!(first.state, ChatState::Delta);
    run_id
}

fn record_sink(reg: &RunRegistry) -> Arc<Mutex<Vec<(String, &'static str)>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    reg.set_sessions_sink(Arc::new(move |key, reason| s.lock().push((key, reason))));
    seen
}

#[tokio::test]
async fn a_session_deleted_while_its_run_streams_stays_deleted_and_nothing_is_written() {
    let f = fixture(sessions_cfg(4, 60));
    let run_id = streaming(&f, "doomed").await;
    // What the engine's delete does: discard the runs, then delete the row.
    assert_eq!(f.registry.discard("doomed"), 1);
    assert!(f.store.session_delete("doomed").unwrap());
    let out = wait_outcome(&f.registry, &run_id).await;
    assert_eq!(out.state, ChatState::Aborted);
    assert!(!out.persisted, "a discarded run writes nothing");
    assert!(
        f.store.session_get("doomed").unwrap().is_none(),
        "the session is not re-created by the run's finish"
    );
    assert_eq!(f.registry.active_runs(), 0);
}

#[tokio::test]
async fn the_final_write_never_recreates_a_session_deleted_behind_the_runs_back() {
    // No discard: only the generation guard stands between the run and the deleted row.
    let f = fixture(sessions_cfg(4, 60));
    let run_id = streaming(&f, "gone").await;
    assert!(f.store.session_delete("gone").unwrap());
    f.registry.abort("gone", Some(&run_id));
    let out = wait_outcome(&f.registry, &run_id).await;
    assert_eq!(out.state, ChatState::Aborted);
    assert!(!out.text.is_empty(), "the run had partial text to write");
    assert!(!out.persisted);
    assert!(
        f.store.session_get("gone").unwrap().is_none(),
        "no session without label or lineage appears"
    );
}

#[tokio::test]
async fn a_reset_while_streaming_leaves_the_transcript_empty_in_a_new_generation() {
    let f = fixture(sessions_cfg(4, 60));
    let run_id = streaming(&f, "r").await;
    let before = f.store.session_get("r").unwrap().unwrap().session_id;
    assert!(!before.is_empty(), "every session has a generation");
    f.registry.discard("r");
    assert!(f.store.session_reset("r", 5).unwrap());
    let out = wait_outcome(&f.registry, &run_id).await;
    assert_eq!(out.state, ChatState::Aborted);
    let row = f.store.session_get("r").unwrap().unwrap();
    assert_ne!(row.session_id, before, "reset starts a new generation");
    assert_eq!(row.message_count, 0);
    assert!(
        messages(&f.store, "r").is_empty(),
        "the killed reply is not put back"
    );

    // Guard alone: reset behind the run's back, then the run ends with partial text.
    let run_id = streaming(&f, "r").await;
    assert!(f.store.session_reset("r", 6).unwrap());
    f.registry.kill("r");
    let out = wait_outcome(&f.registry, &run_id).await;
    assert!(!out.text.is_empty() && !out.persisted);
    assert!(messages(&f.store, "r").is_empty());
}

#[tokio::test]
async fn the_run_path_reports_created_then_updated_session_changes() {
    let f = fixture(sessions_cfg(4, 60));
    let seen = record_sink(&f.registry);
    let run = f.registry.start(send("fresh", "/echo hi")).await.unwrap();
    let run_id = run.run_id.clone();
    drop(run);
    wait_outcome(&f.registry, &run_id).await;
    assert_eq!(
        *seen.lock(),
        vec![
            ("fresh".to_string(), "created"),
            ("fresh".to_string(), "updated")
        ],
        "the first message created the session, the reply updated it"
    );
    let run_id = f
        .registry
        .start(send("fresh", "/echo again"))
        .await
        .unwrap()
        .run_id
        .clone();
    wait_outcome(&f.registry, &run_id).await;
    assert_eq!(seen.lock().len(), 4);
    assert!(seen.lock()[2..].iter().all(|(_, r)| *r == "updated"));
}

#[tokio::test]
async fn finished_runs_beyond_the_retention_are_pruned_and_running_ones_kept() {
    let mut cfg = sessions_cfg(4, 60);
    cfg.runs_retention_rows = 5;
    cfg.runs_retention_days = 1;
    let f = fixture(cfg);
    let now = microclaw_core::Clock::now_ms(&microclaw_core::SystemClock);
    let day = 86_400_000;
    for i in 0..8 {
        let id = format!("old{i}");
        f.store.run_insert(&id, "p", None, now - 3 * day).unwrap();
        f.store
            .run_finish(&id, "final", None, now - 2 * day)
            .unwrap();
    }
    for i in 0..9 {
        let id = format!("new{i}");
        f.store.run_insert(&id, "p", None, now - 1000).unwrap();
        f.store
            .run_finish(&id, "final", None, now - 1000 + i)
            .unwrap();
    }
    f.store
        .run_insert("live", "p", None, now - 5 * day)
        .unwrap();
    assert_eq!(f.store.runs_count().unwrap(), 18);
    let pruned = f.registry.prune_runs().await.unwrap();
    assert_eq!(pruned, 12, "8 too old + 4 beyond the newest 5");
    assert_eq!(
        f.store.runs_count().unwrap(),
        6,
        "5 finished + the running one"
    );
    assert!(
        f.store.run_finish("live", "aborted", None, now).is_ok(),
        "running rows are kept"
    );
    assert!(
        f.store.run_finish("new8", "final", None, now).is_ok(),
        "the newest are kept"
    );
    assert!(
        f.store.run_finish("new3", "final", None, now).is_err(),
        "older ones are gone"
    );
}

#[tokio::test]
async fn deleting_a_session_forgets_its_pause() {
    let f = fixture(sessions_cfg(4, 60));
    assert!(f.registry.pause("p1"));
    assert!(f.registry.pause("p2"));
    assert_eq!(f.registry.paused_count(), 2);
    f.registry.discard("p1");
    assert_eq!(f.registry.paused_count(), 1);
    assert!(!f.registry.is_paused("p1"));
    let ok = f.registry.start(send("p1", "/echo back")).await;
    assert!(ok.is_ok(), "a re-created session is not paused");
}
