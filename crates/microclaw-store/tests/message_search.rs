//! `sessions_list` search over message text (FTS5, migration 0009) on a real SQLite file:
//! hits, staying in step with append / run end / reset / delete / fork, hostile terms, the
//! backfill of messages written before the migration, and the export page reads.
#![allow(clippy::unwrap_used)]

mod common;

use common::{raw, temp_store};
use microclaw_core::config::Synchronous;
use microclaw_store::{ListQuery, RunBegin, RunEnd, RunReply, SessionRow, Store};

fn search(store: &Store, term: &str) -> (Vec<SessionRow>, i64) {
    store
        .sessions_list(&ListQuery {
            limit: 50,
            offset: 0,
            search: Some(term.to_string()),
        })
        .unwrap_or_else(|e| panic!("search {term:?} failed: {}", e.message))
}

fn keys(store: &Store, term: &str) -> Vec<String> {
    search(store, term).0.into_iter().map(|r| r.key).collect()
}

#[test]
fn message_text_hits_with_a_snippet_and_keys_and_labels_still_match() {
    let t = temp_store();
    let s = &t.store;
    s.message_append(
        "alpha",
        "user",
        "the deployment failed on the blue cluster",
        1,
    )
    .unwrap();
    s.message_append("beta", "user", "nothing to see", 2)
        .unwrap();
    s.message_append("deploy-notes", "user", "plain", 3)
        .unwrap();
    // Text hit (prefix: "deploy" finds "deployment") and key hit, newest updated_at first.
    assert_eq!(keys(s, "deploy"), ["deploy-notes", "alpha"]);
    let (rows, total) = search(s, "BLUE cluster");
    assert_eq!(total, 1);
    assert_eq!(rows[0].key, "alpha");
    let snip = rows[0].search_snippet.as_deref().unwrap();
    assert!(snip.contains("blue cluster"), "snippet {snip:?}");
    // A key-only hit carries no snippet; unrelated words find nothing.
    let (rows, _) = search(s, "notes");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].search_snippet, None);
    assert!(keys(s, "kubernetes").is_empty());
    // All words must be in one message (AND), in any order.
    assert_eq!(keys(s, "cluster deployment"), ["alpha"]);
    assert!(keys(s, "cluster nothing").is_empty());
    // Diacritics and case fold.
    s.message_append("dessert", "assistant", "Crème Brûlée tonight", 4)
        .unwrap();
    assert_eq!(keys(s, "creme brulee"), ["dessert"]);
}

#[test]
fn the_index_follows_reset_delete_fork_and_run_replies() {
    let t = temp_store();
    let s = &t.store;
    s.message_append("src", "user", "zebra crossing", 1)
        .unwrap();
    s.message_append("src", "assistant", "giraffe neck", 2)
        .unwrap();
    s.session_fork("src", "copy", Some(1), 3).unwrap();
    // The fork copied only the first message: it matches zebra, not giraffe.
    assert_eq!(keys(s, "zebra"), ["copy", "src"]);
    assert_eq!(keys(s, "giraffe"), ["src"]);

    assert!(s.session_reset("src", 4).unwrap());
    assert_eq!(keys(s, "zebra"), ["copy"], "reset removed src's messages");
    assert!(keys(s, "giraffe").is_empty());
    s.message_append("src", "user", "okapi", 5).unwrap();
    assert_eq!(keys(s, "okapi"), ["src"]);

    assert!(s.session_delete("copy").unwrap());
    assert!(
        keys(s, "zebra").is_empty(),
        "delete cascades into the index"
    );

    // A run's reply (killed, with its stop reason) is indexed like any message.
    let begun = s
        .run_begin(&RunBegin {
            run_id: "r1".into(),
            session_key: "runner".into(),
            idempotency_key: None,
            message: "what about the walrus".into(),
            history_limit: 10,
            now: 6,
        })
        .unwrap();
    s.run_complete(&RunEnd {
        run_id: "r1".into(),
        session_key: "runner".into(),
        generation: begun.generation,
        state: "aborted".into(),
        error_message: Some("stopped by operator".into()),
        reply: Some(RunReply {
            text: "the narwhal is".into(),
            stop_reason: Some("aborted".into()),
            error_message: Some("stopped by operator".into()),
        }),
        now: 7,
    })
    .unwrap();
    assert_eq!(keys(s, "walrus"), ["runner"]);
    assert_eq!(keys(s, "narwhal"), ["runner"]);
    // The index and the table agree (FTS5's own consistency check).
    raw(&t.path)
        .execute_batch("INSERT INTO message_fts (message_fts) VALUES ('integrity-check')")
        .unwrap();
}

#[test]
fn hostile_terms_never_reach_fts5_as_syntax() {
    let t = temp_store();
    let s = &t.store;
    s.message_append("q", "user", "say \"hi\" NEAR the (door) * 100% done_ok", 1)
        .unwrap();
    s.message_append("100%_off", "user", "sale", 2).unwrap();
    for term in [
        "\"",
        "\"hi",
        "hi\"",
        "*",
        "hi*",
        "NEAR",
        "NEAR(hi door)",
        "(door",
        "door)",
        "AND",
        "OR OR",
        "NOT hi",
        "-hi",
        "^hi",
        "hi:door",
        "col:hi",
        "{text}: hi",
        "%",
        "_",
        "\\",
        "''",
        "💥",
    ] {
        search(s, term); // must not error
    }
    assert_eq!(keys(s, "NEAR(the"), ["q"], "NEAR( is a plain phrase");
    assert!(
        keys(s, "NEAR(door").is_empty(),
        "\"near door\" is not adjacent"
    );
    assert_eq!(keys(s, "\"hi\""), ["q"]);
    assert_eq!(keys(s, "(door)"), ["q"]);
    // `%` and `_` are literal in the key/label part: only the key holding them matches.
    assert_eq!(keys(s, "%"), ["100%_off"]);
    assert_eq!(keys(s, "_"), ["100%_off"]);
    assert_eq!(keys(s, "%_o"), ["100%_off"]);
    assert!(keys(s, "1%0").is_empty(), "% is not a wildcard");
    // "100%" as text: the key matches literally, the message through the word "100".
    assert_eq!(keys(s, "100%"), ["100%_off", "q"]);
    // Pages past the last hit still report the total.
    let (rows, total) = s
        .sessions_list(&ListQuery {
            limit: 10,
            offset: 5,
            search: Some("door".into()),
        })
        .unwrap();
    assert!(rows.is_empty());
    assert_eq!(total, 1);
}

#[test]
fn search_pages_are_ordered_and_counted_over_many_hits() {
    let t = temp_store();
    let s = &t.store;
    for i in 0..30 {
        s.message_append(&format!("s{i:02}"), "user", &format!("needle {i}"), 100 + i)
            .unwrap();
    }
    let page = |offset| {
        s.sessions_list(&ListQuery {
            limit: 10,
            offset,
            search: Some("needle".into()),
        })
        .unwrap()
    };
    let (p1, total) = page(0);
    assert_eq!(total, 30);
    assert_eq!(p1[0].key, "s29");
    let (p3, _) = page(20);
    assert_eq!(p3.last().unwrap().key, "s00");
    // Two hits in one session count once; the snippet comes from the newest.
    s.message_append("s00", "user", "needle again", 200)
        .unwrap();
    let (p1, total) = page(0);
    assert_eq!(total, 30);
    assert_eq!(p1[0].key, "s00");
    assert_eq!(p1[0].search_snippet.as_deref(), Some("needle again"));
}

#[test]
fn messages_written_before_the_migration_are_backfilled() {
    let t = temp_store();
    t.store
        .message_append("old", "user", "pelican brief", 1)
        .unwrap();
    t.store.close();
    // Roll the schema back to before 0009, as a database from an older build would be (the
    // tables of later migrations go too, so they can be created again).
    let c = raw(&t.path);
    c.execute_batch(
        "DROP TABLE IF EXISTS scheduler_jobs; DROP TABLE IF EXISTS scheduler_runs; \
         DROP TABLE IF EXISTS scheduler_dlq; DROP TABLE IF EXISTS gateway_probes; \
         DROP TABLE IF EXISTS gateways; \
         DROP TABLE IF EXISTS usage_daily; ALTER TABLE runs DROP COLUMN agent_id; \
         ALTER TABLE runs DROP COLUMN model; ALTER TABLE runs DROP COLUMN input_tokens; \
         ALTER TABLE runs DROP COLUMN output_tokens; ALTER TABLE runs DROP COLUMN cost_usd; \
         ALTER TABLE runs DROP COLUMN usage_estimated; \
         DROP TRIGGER message_fts_after_insert; DROP TRIGGER message_fts_after_delete; \
         DROP TRIGGER message_fts_after_update; DROP TABLE message_fts; PRAGMA user_version = 8; \
         INSERT INTO messages (session_id, role, text, created_at) \
         SELECT id, 'user', 'heron wading', 2 FROM sessions WHERE key = 'old';",
    )
    .unwrap();
    drop(c);
    let store = Store::open(&t.path, Synchronous::Normal).unwrap();
    assert_eq!(keys(&store, "pelican"), ["old"]);
    assert_eq!(keys(&store, "heron"), ["old"]);
}

#[test]
fn export_pages_read_in_order_and_stop_at_a_reset() {
    let t = temp_store();
    let s = &t.store;
    for i in 0..7 {
        s.message_append("ex", "user", &format!("m{i}"), i).unwrap();
    }
    assert!(s.export_head("nope").unwrap().is_none());
    let (row, newest) = s.export_head("ex").unwrap().unwrap();
    s.message_append("ex", "user", "after the head", 9).unwrap();
    let mut after = 0;
    let mut texts = Vec::new();
    while let Some(page) = s
        .export_page("ex", &row.session_id, after, newest, 3)
        .unwrap()
    {
        let Some(last) = page.last() else { break };
        after = last.id;
        texts.extend(page.iter().map(|m| m.text.clone()));
    }
    assert_eq!(texts, ["m0", "m1", "m2", "m3", "m4", "m5", "m6"]);
    s.session_reset("ex", 10).unwrap();
    assert!(s
        .export_page("ex", &row.session_id, 0, newest, 3)
        .unwrap()
        .is_none());
}
