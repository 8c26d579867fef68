#![allow(clippy::unwrap_used)]
mod common;

use microclaw_store::{ApprovalNew, ResolveOutcome};

fn new(id: &str, at: i64) -> ApprovalNew {
    ApprovalNew {
        id: id.into(),
        session_key: "main".into(),
        agent_id: "ops".into(),
        run_id: format!("run-{id}"),
        tool: "run_command".into(),
        command: "ls -la".into(),
        cwd: "/w".into(),
        created_at: at,
        expires_at: at + 1_800_000,
    }
}

#[test]
fn the_first_answer_wins_and_later_ones_see_it() {
    let t = common::temp_store();
    let row = t.store.approval_insert(&new("a", 10), 0).unwrap();
    assert_eq!((row.status.as_str(), row.decision), ("pending", None));
    assert_eq!(t.store.approvals_pending_count().unwrap(), 1);
    let first = t
        .store
        .approval_resolve("a", "allowed", "allow-once", "user", Some("key:1"), 20)
        .unwrap();
    let ResolveOutcome::Applied(r) = first else {
        panic!("first answer must apply: {first:?}")
    };
    assert_eq!((r.status.as_str(), r.resolved_at), ("allowed", Some(20)));
    let second = t
        .store
        .approval_resolve("a", "denied", "deny", "user", Some("key:2"), 30)
        .unwrap();
    let ResolveOutcome::AlreadyResolved(r) = second else {
        panic!("second answer must not apply: {second:?}")
    };
    assert_eq!(
        (r.decision.as_deref(), r.resolved_by.as_deref()),
        (Some("allow-once"), Some("key:1"))
    );
    assert_eq!(
        t.store
            .approval_resolve("zz", "denied", "deny", "user", None, 1)
            .unwrap(),
        ResolveOutcome::NotFound
    );
    assert!(t.store.approvals_pending(10).unwrap().is_empty());
}

#[test]
fn a_restart_ends_every_pending_one_and_history_pages_newest_first() {
    let t = common::temp_store();
    for (i, id) in ["a", "b", "c", "d"].iter().enumerate() {
        t.store.approval_insert(&new(id, i as i64), 0).unwrap();
    }
    t.store
        .approval_resolve("a", "denied", "deny", "user", Some("k"), 100)
        .unwrap();
    let ended = t
        .store
        .approvals_end_pending("denied", "deny", "gateway-restart", 200)
        .unwrap();
    assert_eq!(ended.len(), 3);
    assert!(ended
        .iter()
        .all(|r| r.reason.as_deref() == Some("gateway-restart")));
    assert_eq!(t.store.approvals_pending_count().unwrap(), 0);

    let p1 = t.store.approvals_history(None, 2).unwrap();
    let ids: Vec<&str> = p1.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["d", "c"], "newest first, ties by id");
    let last = p1.last().unwrap();
    let p2 = t
        .store
        .approvals_history(Some((last.resolved_at.unwrap(), &last.id)), 10)
        .unwrap();
    let ids: Vec<&str> = p2.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["b", "a"]);

    // Settled rows older than the prune point go when the next approval is stored.
    t.store.approval_insert(&new("e", 300), 150).unwrap();
    let all = t.store.approvals_history(None, 10).unwrap();
    assert_eq!(all.len(), 3, "a (settled at 100) was pruned: {all:?}");
}

#[test]
fn allow_always_rules_match_the_exact_call_only() {
    let t = common::temp_store();
    t.store
        .approval_rule_add("ops", "run_command", "ls -la", "a", 1)
        .unwrap();
    assert!(t
        .store
        .approval_rule_matches("ops", "run_command", "ls -la")
        .unwrap());
    assert!(!t
        .store
        .approval_rule_matches("ops", "run_command", "ls -l")
        .unwrap());
    assert!(!t
        .store
        .approval_rule_matches("other", "run_command", "ls -la")
        .unwrap());
    assert!(!t
        .store
        .approval_rule_matches("ops", "write_file", "ls -la")
        .unwrap());
}
