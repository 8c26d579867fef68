#![allow(clippy::unwrap_used)]
mod common;

use microclaw_core::{ErrorCode, ThinkingLevel};
use microclaw_store::SessionPatch;

fn seed(t: &common::TempStore, key: &str, n: i64) {
    for i in 0..n {
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        t.store
            .message_append(key, role, &format!("{key}-{i}"), 100 + i)
            .unwrap();
    }
}

#[test]
fn fork_copies_messages_up_to_the_point_with_label_levels_and_lineage() {
    let t = common::temp_store();
    let patch = SessionPatch {
        thinking_level: Some(ThinkingLevel::Medium),
        agent_id: Some(Some("ops".into())),
        ..Default::default()
    };
    t.store.session_patch("src", &patch, true, 1).unwrap();
    seed(&t, "src", 5);

    let f = t.store.session_fork("src", "f3", Some(3), 500).unwrap();
    assert_eq!(
        f.label.as_deref(),
        Some("src (fork)"),
        "no label: the key is used"
    );
    assert_eq!(
        (f.parent_key.as_deref(), f.fork_point),
        (Some("src"), Some(3))
    );
    assert_eq!(
        (f.thinking_level, f.agent_id.as_deref()),
        (ThinkingLevel::Medium, Some("ops"))
    );
    assert_eq!((f.message_count, f.created_at), (3, 500));
    assert_eq!(f.last_message_preview.as_deref(), Some("src-2"));
    let (msgs, more) = t.store.messages_page("f3", 10, None).unwrap().unwrap();
    let texts: Vec<_> = msgs.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["src-0", "src-1", "src-2"]);
    assert!(!more);
    assert!(msgs.iter().all(|m| m.session_key == "f3"));

    let all = t.store.session_fork("src", "fall", None, 501).unwrap();
    assert_eq!(all.message_count, 5, "default fork point = all messages");
    let zero = t.store.session_fork("src", "f0", Some(0), 502).unwrap();
    assert_eq!((zero.message_count, zero.last_message_preview), (0, None));
    // The fork of a labelled session uses the label.
    let ff = t.store.session_fork("f3", "ff", None, 503).unwrap();
    assert_eq!(
        ff.label.as_deref(),
        Some("src (fork)"),
        "a fork of a fork does not grow its label"
    );
}

#[test]
fn fork_errors_name_the_problem() {
    let t = common::temp_store();
    seed(&t, "src", 2);
    seed(&t, "taken", 1);
    let code =
        |r: microclaw_core::Result<_>| r.map(|_: microclaw_store::SessionRow| ()).unwrap_err().code;
    assert_eq!(
        code(t.store.session_fork("nope", "x", None, 1)),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(t.store.session_fork("src", "taken", None, 1)),
        ErrorCode::Conflict
    );
    assert_eq!(
        code(t.store.session_fork("src", "src", None, 1)),
        ErrorCode::InvalidRequest
    );
    let err = t.store.session_fork("src", "x", Some(3), 1).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
    assert!(err.message.contains("has 2 messages"), "{}", err.message);
    assert_eq!(
        code(t.store.session_fork("src", "x", Some(-1), 1)),
        ErrorCode::InvalidRequest
    );
    assert!(
        t.store.session_get("x").unwrap().is_none(),
        "failed forks leave nothing behind"
    );
    assert_eq!(
        t.store.session_get("taken").unwrap().unwrap().message_count,
        1
    );
}

#[test]
fn delete_does_not_cascade_to_forks_which_become_roots_of_the_tree() {
    let t = common::temp_store();
    seed(&t, "root", 3);
    t.store.session_fork("root", "child", Some(2), 200).unwrap();
    t.store
        .session_fork("child", "grandchild", None, 300)
        .unwrap();
    t.store
        .session_patch("other", &SessionPatch::default(), true, 400)
        .unwrap();

    let tree = t.store.sessions_tree(None, 100).unwrap();
    let keys: Vec<_> = tree.iter().map(|n| n.key.as_str()).collect();
    assert_eq!(
        keys,
        ["root", "child", "grandchild", "other"],
        "parents before children"
    );

    let sub = t.store.sessions_tree(Some("child"), 100).unwrap();
    let keys: Vec<_> = sub.iter().map(|n| n.key.as_str()).collect();
    assert_eq!(
        keys,
        ["child", "grandchild"],
        "root restricts to the subtree"
    );
    assert!(t
        .store
        .sessions_tree(Some("missing"), 100)
        .unwrap()
        .is_empty());

    assert!(t.store.session_delete("root").unwrap());
    assert!(
        !t.store.session_delete("root").unwrap(),
        "second delete finds nothing"
    );
    assert!(t.store.messages_page("root", 10, None).unwrap().is_none());
    let child = t
        .store
        .session_get("child")
        .unwrap()
        .expect("fork survives its parent");
    assert_eq!(
        (child.parent_key.as_deref(), child.message_count),
        (Some("root"), 2)
    );
    assert_eq!(
        t.store
            .messages_page("child", 10, None)
            .unwrap()
            .unwrap()
            .0
            .len(),
        2
    );

    let tree = t.store.sessions_tree(None, 100).unwrap();
    let orphan = tree.iter().find(|n| n.key == "child").unwrap();
    assert!(
        !tree
            .iter()
            .any(|n| Some(n.key.as_str()) == orphan.parent_key.as_deref()),
        "the parent is gone, so consumers treat 'child' as a root"
    );
    assert_eq!(
        t.store.sessions_tree(None, 2).unwrap().len(),
        2,
        "limit applies"
    );
}
