//! Shared helpers: every test gets a real SQLite file in its own temp directory.
#![allow(dead_code, clippy::unwrap_used)]

use microclaw_core::config::Synchronous;
use microclaw_store::Store;
use std::path::PathBuf;

pub struct TempStore {
    pub store: Store,
    pub path: PathBuf,
    pub dir: tempfile::TempDir,
}

pub fn temp_store() -> TempStore {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("microclaw.db");
    let store = Store::open(&path, Synchronous::Normal).unwrap();
    TempStore { store, path, dir }
}

/// A raw connection to the same file, for tampering the way an attacker or a bug would.
pub fn raw(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}
