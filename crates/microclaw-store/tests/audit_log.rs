#![allow(clippy::unwrap_used)]
mod common;

use microclaw_store::{audit_entry_hash, GENESIS_HASH};
use serde_json::json;

#[test]
fn chain_links_each_row_to_the_one_before() {
    let t = common::temp_store();
    let a = t
        .store
        .audit_append("login.ok", "ip:127.0.0.1", None, &json!({"label": "x"}), 1)
        .unwrap();
    let b = t
        .store
        .audit_append(
            "key.create",
            "admin",
            Some("key:1"),
            &json!({"b": 2, "a": [1]}),
            2,
        )
        .unwrap();
    assert_eq!((a.id, a.prev_hash.as_str()), (1, GENESIS_HASH));
    assert_eq!(b.prev_hash, a.entry_hash);
    let expected = audit_entry_hash(
        &a.prev_hash,
        1,
        1,
        "login.ok",
        "ip:127.0.0.1",
        None,
        r#"{"label":"x"}"#,
    );
    assert_eq!(
        a.entry_hash, expected,
        "hash = SHA-256(prev || canonical row), hex"
    );
    assert_eq!(a.entry_hash.len(), 64);
    assert_eq!(t.store.audit_verify().unwrap(), Ok(2));
}

#[test]
fn list_is_newest_first_and_filters_by_kind() {
    let t = common::temp_store();
    for i in 0..5 {
        let kind = if i % 2 == 0 { "login.failed" } else { "logout" };
        t.store
            .audit_append(kind, "u", None, &json!({"i": i}), i)
            .unwrap();
    }
    let all = t.store.audit_list(10, None).unwrap();
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        [5, 4, 3, 2, 1]
    );
    assert_eq!(all[0].detail, json!({"i": 4}));
    let failed = t.store.audit_list(2, Some("login.failed")).unwrap();
    assert_eq!(failed.iter().map(|r| r.id).collect::<Vec<_>>(), [5, 3]);
}

#[test]
fn tampering_with_a_row_is_reported_at_that_row() {
    let t = common::temp_store();
    for i in 0..4 {
        t.store
            .audit_append("password.change", "admin", None, &json!({"n": i}), i)
            .unwrap();
    }
    assert_eq!(t.store.audit_verify().unwrap(), Ok(4));
    common::raw(&t.path)
        .execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 3", [])
        .unwrap();
    let broken = t.store.audit_verify().unwrap().unwrap_err();
    assert!(
        broken.contains("id 3"),
        "must name the first broken id: {broken}"
    );
}

#[test]
fn deleting_a_middle_row_is_reported_at_the_next_row() {
    let t = common::temp_store();
    for i in 0..4 {
        t.store
            .audit_append("key.revoke", "admin", Some("k"), &json!(null), i)
            .unwrap();
    }
    common::raw(&t.path)
        .execute("DELETE FROM audit_log WHERE id = 2", [])
        .unwrap();
    let broken = t.store.audit_verify().unwrap().unwrap_err();
    assert!(broken.contains("id 3"), "{broken}");
}

#[test]
fn empty_log_verifies_with_zero_rows() {
    let t = common::temp_store();
    assert_eq!(t.store.audit_verify().unwrap(), Ok(0));
}
