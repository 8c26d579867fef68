#![allow(clippy::unwrap_used)]
mod common;

use microclaw_core::config::Synchronous;
use microclaw_core::ErrorCode;
use microclaw_store::{SessionPatch, Store, SCHEMA_VERSION};

#[test]
fn data_survives_close_and_reopen_and_the_schema_version_is_recorded() {
    let t = common::temp_store();
    t.store.message_append("main", "user", "hello", 10).unwrap();
    t.store.setting_set("password_hash", "x").unwrap();
    t.store.close();

    let again = Store::open(&t.path, Synchronous::Full).unwrap();
    let row = again
        .session_get("main")
        .unwrap()
        .expect("session must persist across reopen");
    assert_eq!(row.message_count, 1);
    assert_eq!(
        again.setting_get("password_hash").unwrap().as_deref(),
        Some("x")
    );
    let v: i64 = common::raw(&t.path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        v, SCHEMA_VERSION,
        "user_version must record the latest migration"
    );
    assert_eq!(again.integrity_check().unwrap(), "ok");
}

#[test]
fn database_from_a_newer_build_is_refused_with_a_clear_message() {
    let t = common::temp_store();
    t.store.close();
    common::raw(&t.path)
        .execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
        .unwrap();
    let err = Store::open(&t.path, Synchronous::Normal).unwrap_err();
    assert!(
        err.message.contains("newer") || err.message.contains("only knows"),
        "message must say the database is newer: {}",
        err.message
    );
    assert!(
        err.message.contains(&format!("{}", SCHEMA_VERSION + 1)),
        "{}",
        err.message
    );
}

#[test]
fn a_file_that_is_not_sqlite_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.db");
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    let err = Store::open(&path, Synchronous::Normal).unwrap_err();
    assert_eq!(err.code, ErrorCode::InternalError);
    assert!(err.message.contains("junk.db"), "{}", err.message);
}

#[test]
fn missing_data_dir_is_created_private_and_the_file_is_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/data").join("microclaw.db");
    let store = Store::open(&path, Synchronous::Normal).unwrap();
    assert!(path.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dmode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        let fmode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(dmode & 0o777, 0o700, "data dir must be private");
        assert_eq!(fmode & 0o777, 0o600, "db file must be private");
    }
    drop(store);
}

#[test]
fn wal_and_foreign_keys_are_on() {
    let t = common::temp_store();
    let mode: String = common::raw(&t.path)
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode.to_lowercase(), "wal");
    // A message for a session id that does not exist must be rejected by the FK, which only
    // happens when the store turned foreign keys on for its own connection: prove it through
    // the public API by deleting a session and checking its messages went with it.
    t.store.message_append("a", "user", "x", 1).unwrap();
    assert!(t.store.session_delete("a").unwrap());
    let left: i64 = common::raw(&t.path)
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0, "ON DELETE CASCADE requires foreign_keys=ON");
}

#[test]
fn after_close_every_call_is_unavailable() {
    let t = common::temp_store();
    t.store.close();
    t.store.close(); // twice is harmless
    assert_eq!(
        t.store.session_count().unwrap_err().code,
        ErrorCode::Unavailable
    );
    let patch = SessionPatch::default();
    let err = t.store.session_patch("k", &patch, true, 1).unwrap_err();
    assert_eq!(err.code, ErrorCode::Unavailable);
    // The WAL was checkpointed into the main file.
    let wal = t.path.with_file_name("microclaw.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
}
