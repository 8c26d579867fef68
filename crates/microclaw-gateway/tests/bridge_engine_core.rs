//! The engine core under load: `health` never waits on SQLite (it answers while every read
//! connection and the writer are busy), one scope table for the destructive actions, and
//! OpenClaw's empty history for an unknown session.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::start;
use microclaw_store::READ_POOL_SIZE;
use serde_json::json;
use std::sync::{Arc, Barrier};
use std::time::Duration;

/// Occupies `n` read permits (or the writer, with `write`) until the returned barrier is
/// passed a second time: the closures block their store thread, as a slow query would.
fn hold_store(srv: &common::TestServer, n: usize, write: bool) -> Arc<Barrier> {
    let release = Arc::new(Barrier::new(n + 1));
    for _ in 0..n {
        let (store, release) = (srv.engine.store().clone(), release.clone());
        tokio::spawn(async move {
            let f = move |_: &microclaw_store::Store| {
                release.wait();
                Ok(())
            };
            if write {
                store.write_async(f).await
            } else {
                store.read_async(f).await
            }
        });
    }
    release
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_while_every_store_connection_is_busy() {
    let srv = start().await;
    let key = srv.rw_key();
    let (mut c, _) = srv.client_v4(&key).await;
    c.call("sessions.patch", json!({"key": "before", "label": "x"}))
        .await;

    let reads = hold_store(&srv, READ_POOL_SIZE, false);
    let writes = hold_store(&srv, 1, true);

    // health and ping come from memory: they answer while SQLite is fully occupied.
    let h = tokio::time::timeout(Duration::from_secs(3), c.call("health", json!({})))
        .await
        .expect("health answered while every read connection and the writer were busy");
    assert_eq!(
        h["sessions"]["count"], 1,
        "the count is kept in memory: {h}"
    );
    tokio::time::timeout(Duration::from_secs(3), c.call("ping", json!({})))
        .await
        .expect("ping answered");

    // A store read really waits for a free read connection (so the test above means something).
    let id = c.call_frame_id("sessions.list", json!({})).await;
    let early = tokio::time::timeout(Duration::from_millis(300), c.response_for(&id)).await;
    assert!(
        early.is_err(),
        "sessions.list answered while every read connection was held: {early:?}"
    );
    tokio::task::spawn_blocking(move || reads.wait())
        .await
        .unwrap();
    let res = c.response_for(&id).await;
    assert_eq!(
        res["ok"], true,
        "sessions.list answers once a reader is free: {res}"
    );
    tokio::task::spawn_blocking(move || writes.wait())
        .await
        .unwrap();

    // Writes keep the in-memory count exact.
    c.call("sessions.patch", json!({"key": "after", "label": "y"}))
        .await;
    let h = c.call("health", json!({})).await;
    assert_eq!(h["sessions"]["count"], 2, "{h}");
}

#[tokio::test]
async fn destructive_session_actions_need_approvals_on_the_bridge_too() {
    let srv = start().await;
    let (mut w, _) = srv.client_v4(&srv.rw_key()).await;
    w.call("sessions.patch", json!({"key": "victim", "label": "v"}))
        .await;
    for (method, params) in [
        ("sessions.delete", json!({"key": "victim"})),
        ("session_delete", json!({"key": "victim"})),
        ("sessions.fork", json!({"key": "victim"})),
    ] {
        let err = w.call_err(method, params).await;
        assert_eq!(err["code"], "FORBIDDEN", "{method}: {err}");
        assert_eq!(err["details"]["code"], "MISSING_SCOPE", "{method}: {err}");
        assert_eq!(
            err["details"]["missingScope"], "operator.approvals",
            "{err}"
        );
    }
    let key = srv.key(&["operator.read", "operator.write", "operator.approvals"]);
    let (mut a, _) = srv.client_v4(&key).await;
    let forked = a.call("sessions.fork", json!({"key": "victim"})).await;
    assert_eq!(forked["ok"], true, "{forked}");
    let del = a.call("sessions.delete", json!({"key": "victim"})).await;
    assert_eq!(del["deleted"], true, "{del}");
}

#[tokio::test]
async fn unknown_session_history_is_empty_on_protocol_4_and_not_found_on_3() {
    let srv = start().await;
    let key = srv.rw_key();
    let (mut c4, _) = srv.client_v4(&key).await;
    let h = c4
        .call("chat.history", json!({"sessionKey": "never-seen"}))
        .await;
    assert_eq!(h["messages"], json!([]), "{h}");
    assert_eq!(h["hasMore"], false, "{h}");
    let (mut c3, _) = srv.client_v3(&key).await;
    let err = c3
        .call_err("chat.history", json!({"sessionKey": "never-seen"}))
        .await;
    assert_eq!(err["code"], "NOT_FOUND", "{err}");
    // Asking created nothing.
    let list = c4.call("sessions.list", json!({})).await;
    assert_eq!(list["totalCount"], 0, "{list}");
}
