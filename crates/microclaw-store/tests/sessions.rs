#![allow(clippy::unwrap_used)]
mod common;

use microclaw_core::{ErrorCode, ReasoningLevel, ThinkingLevel, VerboseLevel};
use microclaw_store::{ListQuery, SessionPatch};

fn label(l: &str) -> SessionPatch {
    SessionPatch {
        label: Some(Some(l.to_string())),
        ..Default::default()
    }
}

#[test]
fn patch_creates_only_when_asked_and_applies_each_field() {
    let t = common::temp_store();
    let s = &t.store;
    assert!(
        s.session_patch("k", &label("x"), false, 1)
            .unwrap()
            .is_none(),
        "no create"
    );
    assert!(s.session_get("k").unwrap().is_none());

    let (row, created) = s
        .session_patch("k", &label("First"), true, 5)
        .unwrap()
        .unwrap();
    assert!(created);
    assert_eq!(
        (row.label.as_deref(), row.created_at, row.updated_at),
        (Some("First"), 5, 5)
    );
    assert_eq!(row.thinking_level, ThinkingLevel::Off);

    let patch = SessionPatch {
        thinking_level: Some(ThinkingLevel::High),
        verbose_level: Some(VerboseLevel::Full),
        reasoning_level: Some(ReasoningLevel::Stream),
        agent_id: Some(Some("ops".into())),
        ..Default::default()
    };
    let (row, created) = s.session_patch("k", &patch, true, 9).unwrap().unwrap();
    assert!(!created);
    assert_eq!(
        row.label.as_deref(),
        Some("First"),
        "fields not in the patch stay"
    );
    assert_eq!(row.updated_at, 9);
    assert_eq!(
        s.session_get("k").unwrap().unwrap(),
        row,
        "returned row equals stored row"
    );

    let clear = SessionPatch {
        label: Some(None),
        agent_id: Some(None),
        ..Default::default()
    };
    let (row, _) = s.session_patch("k", &clear, false, 10).unwrap().unwrap();
    assert_eq!((row.label, row.agent_id), (None, None), "Some(None) clears");
    assert_eq!(row.thinking_level, ThinkingLevel::High);
}

#[test]
fn empty_key_is_rejected() {
    let t = common::temp_store();
    let err = t
        .store
        .session_patch("  ", &label("x"), true, 1)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
}

#[test]
fn list_is_newest_first_with_total_and_paging() {
    let t = common::temp_store();
    for i in 0..120 {
        t.store
            .session_patch(&format!("s{i:03}"), &label("L"), true, 1000 + i)
            .unwrap();
    }
    let (page, total) = t
        .store
        .sessions_list(&ListQuery {
            limit: 50,
            offset: 0,
            search: None,
        })
        .unwrap();
    assert_eq!(total, 120);
    assert_eq!(page.len(), 50);
    assert_eq!(page[0].key, "s119", "newest updated_at first");
    assert!(page.windows(2).all(|w| w[0].updated_at >= w[1].updated_at));

    let (last, total) = t
        .store
        .sessions_list(&ListQuery {
            limit: 50,
            offset: 100,
            search: None,
        })
        .unwrap();
    assert_eq!((last.len(), total), (20, 120));
    assert_eq!(last.last().unwrap().key, "s000");

    // Touching an old session moves it to the front.
    t.store
        .message_append("s000", "user", "bump", 5000)
        .unwrap();
    assert_eq!(t.store.sessions_recent(1).unwrap()[0].key, "s000");
    assert_eq!(t.store.session_count().unwrap(), 120);
}

#[test]
fn search_is_case_insensitive_on_key_or_label_and_escapes_wildcards() {
    let t = common::temp_store();
    t.store
        .session_patch("agent:main", &label("Quarterly Report"), true, 1)
        .unwrap();
    t.store
        .session_patch("agent:ops", &label("100% done"), true, 2)
        .unwrap();
    t.store
        .session_patch("agent:x_y", &label("other"), true, 3)
        .unwrap();
    t.store
        .session_patch("agent:xzy", &label("other"), true, 4)
        .unwrap();
    let find = |term: &str| {
        let (rows, total) = t
            .store
            .sessions_list(&ListQuery {
                limit: 10,
                offset: 0,
                search: Some(term.into()),
            })
            .unwrap();
        assert_eq!(rows.len() as i64, total);
        rows.into_iter().map(|r| r.key).collect::<Vec<_>>()
    };
    assert_eq!(find("REPORT"), ["agent:main"], "label, any case");
    assert_eq!(find("OPS"), ["agent:ops"], "key, any case");
    assert_eq!(find("%"), ["agent:ops"], "% is literal, not a wildcard");
    assert_eq!(find("x_y"), ["agent:x_y"], "_ is literal, not any-char");
    assert_eq!(find("agent").len(), 4);
    assert!(find("nothing").is_empty());
}

#[test]
fn reset_clears_messages_but_keeps_settings_and_lineage() {
    let t = common::temp_store();
    let patch = SessionPatch {
        thinking_level: Some(ThinkingLevel::Low),
        ..label("keep me")
    };
    t.store.session_patch("src", &patch, true, 1).unwrap();
    t.store.message_append("src", "user", "a", 2).unwrap();
    t.store.session_fork("src", "child", None, 3).unwrap();
    t.store
        .message_append("child", "assistant", "b", 4)
        .unwrap();

    assert!(t.store.session_reset("child", 10).unwrap());
    let row = t.store.session_get("child").unwrap().unwrap();
    assert_eq!(
        (row.message_count, row.last_message_preview.as_deref()),
        (0, None)
    );
    assert_eq!(row.label.as_deref(), Some("keep me (fork)"));
    assert_eq!(row.thinking_level, ThinkingLevel::Low);
    assert_eq!(row.parent_key.as_deref(), Some("src"));
    assert_eq!(row.updated_at, 10);
    let (msgs, more) = t.store.messages_page("child", 10, None).unwrap().unwrap();
    assert!(msgs.is_empty() && !more);
    assert_eq!(
        t.store
            .messages_page("src", 10, None)
            .unwrap()
            .unwrap()
            .0
            .len(),
        1,
        "source untouched"
    );
    assert!(!t.store.session_reset("missing", 10).unwrap());
}

#[test]
fn search_pages_report_the_total_even_past_the_last_match() {
    let t = common::temp_store();
    for i in 0..30 {
        let l = if i % 3 == 0 { "Deploy run" } else { "chat" };
        t.store
            .session_patch(&format!("k{i:02}"), &label(l), true, i)
            .unwrap();
    }
    let q = |offset| ListQuery {
        limit: 4,
        offset,
        search: Some("deploy".into()),
    };
    let (p1, total) = t.store.sessions_list(&q(0)).unwrap();
    assert_eq!(total, 10);
    assert_eq!(
        p1.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["k27", "k24", "k21", "k18"]
    );
    let (p3, total) = t.store.sessions_list(&q(8)).unwrap();
    assert_eq!((p3.len(), total), (2, 10));
    let (past, total) = t.store.sessions_list(&q(40)).unwrap();
    assert_eq!(
        (past.len(), total),
        (0, 10),
        "an empty page still carries the total"
    );
}
