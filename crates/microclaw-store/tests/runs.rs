#![allow(clippy::unwrap_used)]
mod common;

use microclaw_core::ErrorCode;

#[test]
fn idempotency_key_finds_the_run_for_that_session_only() {
    let t = common::temp_store();
    t.store
        .run_insert("r1", "main", Some("idem-1"), 10)
        .unwrap();
    t.store.run_insert("r2", "main", None, 11).unwrap();
    let run = t
        .store
        .run_by_idempotency("main", "idem-1")
        .unwrap()
        .expect("found by key");
    assert_eq!(
        (run.run_id.as_str(), run.state.as_str(), run.started_at),
        ("r1", "running", 10)
    );
    assert!(
        t.store
            .run_by_idempotency("other", "idem-1")
            .unwrap()
            .is_none(),
        "scoped per session"
    );

    let dup = t
        .store
        .run_insert("r3", "main", Some("idem-1"), 12)
        .unwrap_err();
    assert_eq!(dup.code, ErrorCode::Conflict, "same idempotency key twice");
    let dup = t.store.run_insert("r1", "other", None, 12).unwrap_err();
    assert_eq!(dup.code, ErrorCode::Conflict, "same run id twice");
    t.store
        .run_insert("r4", "other", Some("idem-1"), 12)
        .unwrap();

    t.store
        .run_finish("r1", "error", Some("model timed out"), 20)
        .unwrap();
    let run = t
        .store
        .run_by_idempotency("main", "idem-1")
        .unwrap()
        .unwrap();
    assert_eq!((run.state.as_str(), run.ended_at), ("error", Some(20)));
    assert_eq!(run.error_message.as_deref(), Some("model timed out"));
}

#[test]
fn finish_validates_state_and_run_id() {
    let t = common::temp_store();
    t.store.run_insert("r1", "main", None, 1).unwrap();
    let err = t.store.run_finish("r1", "done", None, 2).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
    assert!(
        err.message.contains("final, error, aborted"),
        "{}",
        err.message
    );
    assert_eq!(
        t.store
            .run_finish("nope", "final", None, 2)
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
}

#[test]
fn mark_interrupted_aborts_only_running_runs() {
    let t = common::temp_store();
    t.store.run_insert("live1", "a", Some("i1"), 1).unwrap();
    t.store.run_insert("live2", "b", Some("i2"), 1).unwrap();
    t.store.run_insert("done", "c", Some("i3"), 1).unwrap();
    t.store.run_finish("done", "final", None, 5).unwrap();

    assert_eq!(t.store.runs_mark_interrupted(50).unwrap(), 2);
    let live = t.store.run_by_idempotency("a", "i1").unwrap().unwrap();
    assert_eq!((live.state.as_str(), live.ended_at), ("aborted", Some(50)));
    let done = t.store.run_by_idempotency("c", "i3").unwrap().unwrap();
    assert_eq!(
        (done.state.as_str(), done.ended_at),
        ("final", Some(5)),
        "finished run untouched"
    );
    assert_eq!(
        t.store.runs_mark_interrupted(60).unwrap(),
        0,
        "nothing left running"
    );
}
