//! Connected operator clients, for `presence` events and the UI's Gateway page.

use parking_lot::Mutex;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PresenceEntry {
    pub instance_id: String,
    pub host: String,
    pub mode: String,
    pub platform: String,
    pub version: String,
    pub ts: i64,
}

#[derive(Debug, Default)]
pub struct Presence {
    entries: Mutex<BTreeMap<String, PresenceEntry>>,
}

impl Presence {
    /// Adds (or replaces) a connection's entry, keyed by its connection id.
    pub fn join(&self, conn_id: &str, entry: PresenceEntry) {
        self.entries.lock().insert(conn_id.to_string(), entry);
    }
    /// Removes a connection; true when it was present.
    pub fn leave(&self, conn_id: &str) -> bool {
        self.entries.lock().remove(conn_id).is_some()
    }
    pub fn list(&self) -> Vec<PresenceEntry> {
        self.entries.lock().values().cloned().collect()
    }
    pub fn count(&self) -> usize {
        self.entries.lock().len()
    }
}
