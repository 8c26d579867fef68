#![allow(clippy::unwrap_used)]
mod common;

use microclaw_store::ListQuery;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[test]
fn readers_see_consistent_committed_state_while_a_writer_appends() {
    let t = common::temp_store();
    let writes = 300;
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let store = t.store.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            for i in 0..writes {
                let key = format!("s{}", i % 10);
                store
                    .message_append(&key, "user", &format!("m{i}"), i)
                    .unwrap();
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let readers: Vec<_> = (0..6)
        .map(|_| {
            let store = t.store.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                let mut reads = 0u32;
                // Bounded: the writer finishes in well under this many iterations.
                for _ in 0..200_000 {
                    let (rows, total) = store
                        .sessions_list(&ListQuery {
                            limit: 50,
                            offset: 0,
                            search: None,
                        })
                        .unwrap();
                    assert_eq!(
                        rows.len() as i64,
                        total,
                        "page and total come from one snapshot"
                    );
                    if let Some((msgs, _)) = store.messages_page("s0", 1000, None).unwrap() {
                        let count = store.session_get("s0").unwrap().unwrap().message_count;
                        assert!(
                            msgs.len() as i64 <= count,
                            "counter is never behind committed rows"
                        );
                    }
                    reads += 1;
                    if done.load(Ordering::SeqCst) {
                        break;
                    }
                }
                reads
            })
        })
        .collect();
    writer.join().unwrap();
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    let total: i64 = (0..10)
        .map(|i| {
            t.store
                .session_get(&format!("s{i}"))
                .unwrap()
                .unwrap()
                .message_count
        })
        .sum();
    assert_eq!(total, writes, "every acknowledged write is there");
}

#[test]
fn a_write_blocked_by_another_process_lock_is_unavailable_and_changes_nothing() {
    use microclaw_core::config::Synchronous;
    use microclaw_core::ErrorCode;
    use std::time::Duration;
    let t = common::temp_store();
    let store = microclaw_store::Store::open_with_busy_timeout(
        &t.path,
        Synchronous::Normal,
        Duration::from_millis(100),
    )
    .unwrap();
    let other = common::raw(&t.path);
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = store.message_append("k", "user", "x", 1).unwrap_err();
    assert_eq!(err.code, ErrorCode::Unavailable, "{}", err.message);
    assert!(err.message.contains("busy"), "{}", err.message);
    assert!(
        store.session_get("k").unwrap().is_none(),
        "reads still work during the lock"
    );
    other.execute_batch("ROLLBACK").unwrap();
    store.message_append("k", "user", "x", 2).unwrap();
    assert_eq!(store.session_get("k").unwrap().unwrap().message_count, 1);
}
