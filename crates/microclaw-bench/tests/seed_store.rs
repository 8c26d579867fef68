//! The seeder against a real temp database, read back through `microclaw_store::Store`: the
//! counters it writes must be the ones the gateway's read paths rely on.

#![allow(clippy::unwrap_used)]

use microclaw_bench::seed::{db_path_in, seed, SeedPlan};
use microclaw_core::config::Synchronous;
use microclaw_store::{ListQuery, Store};

fn plan(dir: &std::path::Path) -> SeedPlan {
    SeedPlan {
        db_path: db_path_in(dir),
        sessions: 50,
        messages: 500,
        history_key: "bench-history".into(),
        history_messages: 120,
        key_prefix: "bench-".into(),
    }
}

#[test]
fn seeded_sessions_and_history_read_back_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let p = plan(dir.path());
    let r = seed(&p).unwrap();
    assert_eq!((r.sessions, r.messages), (50, 500));

    let store = Store::open(&p.db_path, Synchronous::Normal).unwrap();
    let (rows, total) = store
        .sessions_list(&ListQuery {
            limit: 100,
            offset: 0,
            search: None,
        })
        .unwrap();
    assert_eq!(total, 50);
    let counted: i64 = rows.iter().map(|s| s.message_count).sum();
    assert_eq!(counted, 500, "message_count sums to the messages written");

    let history = store.session_get("bench-history").unwrap().unwrap();
    assert_eq!(history.message_count, 120);
    let (page, more) = store
        .messages_page("bench-history", 50, None)
        .unwrap()
        .unwrap();
    assert_eq!(page.len(), 50);
    assert!(more, "120 messages do not fit one page of 50");
    let newest = page.last().unwrap();
    assert_eq!(
        history.last_message_preview.as_deref(),
        Some(newest.text.as_str()),
        "the preview is the newest message (short enough to be whole)"
    );
    store.close();
}

#[test]
fn seeding_twice_or_with_a_bad_plan_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = plan(dir.path());
    seed(&p).unwrap();
    let again = seed(&p).unwrap_err().to_string();
    assert!(again.contains("already holds"), "{again}");

    let other = tempfile::tempdir().unwrap();
    let too_many = SeedPlan {
        history_messages: 501,
        ..plan(other.path())
    };
    assert!(seed(&too_many).is_err());
    let none = SeedPlan {
        sessions: 0,
        ..plan(other.path())
    };
    assert!(seed(&none).is_err());
}
