#![allow(clippy::unwrap_used)]
mod common;

use microclaw_core::config::Synchronous;
use microclaw_core::{ErrorCode, Scope, ScopeSet};
use microclaw_store::Store;

fn scopes(list: &[Scope]) -> ScopeSet {
    list.iter().copied().collect()
}

#[test]
fn api_keys_insert_find_revoke_and_list_newest_first() {
    let t = common::temp_store();
    let s = &t.store;
    let a = s
        .api_key_insert(
            "ci",
            "mc_ab",
            "hash-a",
            scopes(&[Scope::Read]),
            None,
            None,
            100,
        )
        .unwrap();
    let b = s
        .api_key_insert(
            "ops",
            "mc_cd",
            "hash-b",
            scopes(&[Scope::Read, Scope::Write]),
            Some(900),
            Some(a.id),
            200,
        )
        .unwrap();
    assert_eq!(b.rotated_from_key_id, Some(a.id));
    assert_eq!(b.expires_at, Some(900));

    let found = s
        .api_key_by_hash("hash-b")
        .unwrap()
        .expect("lookup by hash");
    assert_eq!(found, b);
    assert!(
        found.scopes.contains_exact(Scope::Write) && !found.scopes.contains_exact(Scope::Admin)
    );
    assert!(s.api_key_by_hash("hash-zzz").unwrap().is_none());
    assert_eq!(s.api_key_get(a.id).unwrap().unwrap().label, "ci");

    let dup = s
        .api_key_insert("x", "mc", "hash-a", ScopeSet::all(), None, None, 300)
        .unwrap_err();
    assert_eq!(dup.code, ErrorCode::Conflict);
    let bad = s
        .api_key_insert("x", "mc", "hash-c", ScopeSet::all(), None, Some(999), 300)
        .unwrap_err();
    assert_eq!(bad.code, ErrorCode::NotFound, "rotated_from must exist");

    assert!(s.api_key_revoke(a.id, 400).unwrap());
    assert!(!s.api_key_revoke(a.id, 401).unwrap(), "already revoked");
    assert!(!s.api_key_revoke(12345, 401).unwrap(), "unknown");
    s.api_key_touch(b.id, 450).unwrap();

    let list = s.api_keys_list().unwrap();
    assert_eq!(
        list.iter().map(|k| k.id).collect::<Vec<_>>(),
        [b.id, a.id],
        "newest first"
    );
    assert_eq!(list[1].revoked_at, Some(400), "revoked keys are listed");
    assert_eq!(list[0].last_used_at, Some(450));
}

#[test]
fn api_keys_revision_moves_on_insert_and_revoke_even_from_another_store() {
    let t = common::temp_store();
    let r0 = t.store.api_keys_revision().unwrap();
    let k = t
        .store
        .api_key_insert("a", "p", "h1", ScopeSet::all(), None, None, 1)
        .unwrap();
    let r1 = t.store.api_keys_revision().unwrap();
    assert!(r1 > r0);
    t.store.api_key_touch(k.id, 2).unwrap();
    assert_eq!(
        t.store.api_keys_revision().unwrap(),
        r1,
        "touch is not a key change"
    );

    // A second Store on the same file stands in for the offline CLI process.
    let cli = Store::open(&t.path, Synchronous::Normal).unwrap();
    cli.api_key_insert("from-cli", "p", "h2", ScopeSet::all(), None, None, 3)
        .unwrap();
    let r2 = t.store.api_keys_revision().unwrap();
    assert!(r2 > r1, "the server sees the other process's insert");
    cli.api_key_revoke(k.id, 4).unwrap();
    assert!(t.store.api_keys_revision().unwrap() > r2);
    assert_eq!(
        t.store.api_key_get(k.id).unwrap().unwrap().revoked_at,
        Some(4)
    );
}

#[test]
fn login_sessions_revoke_one_and_all_except_the_caller() {
    let t = common::temp_store();
    let s = &t.store;
    for id in ["me", "laptop", "phone", "old"] {
        s.login_session_insert(id, &format!("csrf-{id}"), Some(id), 10_000, 1)
            .unwrap();
    }
    assert_eq!(
        s.login_session_insert("me", "c", None, 1, 1)
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    let me = s.login_session_get("me").unwrap().unwrap();
    assert_eq!(
        (me.csrf.as_str(), me.expires_at, me.revoked_at),
        ("csrf-me", 10_000, None)
    );

    assert!(s.login_session_revoke("old", 5).unwrap());
    assert!(
        !s.login_session_revoke("old", 6).unwrap(),
        "already revoked"
    );
    assert!(!s.login_session_revoke("ghost", 6).unwrap());

    assert_eq!(
        s.login_sessions_revoke_all_except(Some("me"), 7).unwrap(),
        2
    );
    assert_eq!(
        s.login_session_get("me").unwrap().unwrap().revoked_at,
        None,
        "caller kept"
    );
    assert_eq!(
        s.login_session_get("phone").unwrap().unwrap().revoked_at,
        Some(7)
    );
    assert_eq!(
        s.login_session_get("old").unwrap().unwrap().revoked_at,
        Some(5),
        "first revoke time kept"
    );
    assert_eq!(
        s.login_sessions_revoke_all_except(None, 8).unwrap(),
        1,
        "None revokes everything"
    );
    assert!(s.login_session_get("ghost").unwrap().is_none());
}

#[test]
fn settings_set_get_overwrite_delete() {
    let t = common::temp_store();
    assert!(t.store.setting_get("pw").unwrap().is_none());
    t.store.setting_set("pw", "one").unwrap();
    t.store.setting_set("pw", "two").unwrap();
    assert_eq!(t.store.setting_get("pw").unwrap().as_deref(), Some("two"));
    t.store.setting_delete("pw").unwrap();
    t.store.setting_delete("pw").unwrap();
    assert!(t.store.setting_get("pw").unwrap().is_none());
}

#[test]
fn devices_are_remembered_and_stay_revoked() {
    let t = common::temp_store();
    let s = &t.store;
    s.device_upsert("dev1", "pk1", "cli", 10).unwrap();
    s.device_upsert("dev2", "pk2", "webchat", 20).unwrap();
    s.device_upsert("dev1", "pk1", "control-ui", 30).unwrap();
    let list = s.devices_list().unwrap();
    assert_eq!(
        list.iter()
            .map(|d| d.device_id.as_str())
            .collect::<Vec<_>>(),
        ["dev1", "dev2"]
    );
    assert_eq!((list[0].first_seen_at, list[0].last_seen_at), (10, 30));
    assert_eq!(list[0].client_id, "control-ui");

    assert!(!s.device_is_revoked("dev1").unwrap());
    assert!(s.device_revoke("dev1", 40).unwrap());
    assert!(!s.device_revoke("dev1", 41).unwrap());
    assert!(!s.device_revoke("nope", 41).unwrap());
    s.device_upsert("dev1", "pk1", "cli", 50).unwrap();
    assert!(
        s.device_is_revoked("dev1").unwrap(),
        "reconnecting does not un-revoke"
    );
    assert!(!s.device_is_revoked("unknown").unwrap());
}
