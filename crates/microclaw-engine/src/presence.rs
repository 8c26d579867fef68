//! Connected operator clients, for `presence` events and the UI's Gateway page.
//!
//! Joins and leaves are coalesced: one `PresenceChanged` event per burst (at most one every
//! [`PRESENCE_DEBOUNCE_MS`]), and the list sent to clients is built once per change and capped
//! at [`PRESENCE_LIST_MAX`] entries, so 2,000 connections opening at once cost O(n), not O(n²).

use crate::events::EngineEvent;
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

/// The most entries a `presence` list carries (newest first); `count` gives the total.
pub const PRESENCE_LIST_MAX: usize = 100;
/// Joins and leaves within this window produce one `presence` event.
pub const PRESENCE_DEBOUNCE_MS: u64 = 200;

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

#[derive(Debug)]
pub struct Presence {
    entries: Mutex<BTreeMap<String, PresenceEntry>>,
    version: AtomicU64,
    cached: Mutex<Option<(u64, Arc<Value>)>>,
    pending: Arc<AtomicBool>,
    events: broadcast::Sender<EngineEvent>,
}

impl Presence {
    pub fn new(events: broadcast::Sender<EngineEvent>) -> Presence {
        Presence {
            entries: Mutex::new(BTreeMap::new()),
            version: AtomicU64::new(0),
            cached: Mutex::new(None),
            pending: Arc::new(AtomicBool::new(false)),
            events,
        }
    }

    /// Adds (or replaces) a connection's entry, keyed by its connection id.
    pub fn join(&self, conn_id: &str, entry: PresenceEntry) {
        self.entries.lock().insert(conn_id.to_string(), entry);
        self.changed();
    }

    /// Removes a connection; true when it was present.
    pub fn leave(&self, conn_id: &str) -> bool {
        let was = self.entries.lock().remove(conn_id).is_some();
        if was {
            self.changed();
        }
        was
    }

    pub fn list(&self) -> Vec<PresenceEntry> {
        self.entries.lock().values().cloned().collect()
    }

    pub fn count(&self) -> usize {
        self.entries.lock().len()
    }

    /// Bumps on every join and leave (hello-ok's `stateVersion.presence`).
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    /// The list clients see: newest first, at most [`PRESENCE_LIST_MAX`] entries, built once
    /// per change and shared.
    pub fn snapshot(&self) -> Arc<Value> {
        let v = self.version();
        if let Some((at, snap)) = &*self.cached.lock() {
            if *at == v {
                return snap.clone();
            }
        }
        let mut entries = self.list();
        entries.sort_by_key(|e| std::cmp::Reverse(e.ts));
        entries.truncate(PRESENCE_LIST_MAX);
        let snap = Arc::new(serde_json::to_value(entries).unwrap_or(Value::Array(vec![])));
        *self.cached.lock() = Some((v, snap.clone()));
        snap
    }

    fn changed(&self) {
        self.version.fetch_add(1, Ordering::Relaxed);
        if self.pending.swap(true, Ordering::AcqRel) {
            return; // an event is already on its way and will carry this change too
        }
        let pending = self.pending.clone();
        let events = self.events.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(PRESENCE_DEBOUNCE_MS))
                        .await;
                    pending.store(false, Ordering::Release);
                    let _ = events.send(EngineEvent::PresenceChanged);
                });
            }
            Err(_) => {
                pending.store(false, Ordering::Release);
                let _ = events.send(EngineEvent::PresenceChanged);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: i64) -> PresenceEntry {
        PresenceEntry {
            instance_id: format!("c{i}"),
            host: "h".into(),
            mode: "cli".into(),
            platform: "linux".into(),
            version: "1".into(),
            ts: i,
        }
    }

    #[tokio::test]
    async fn a_burst_of_joins_is_one_event_and_the_list_is_capped_newest_first() {
        let (tx, mut rx) = broadcast::channel(16);
        let p = Presence::new(tx);
        for i in 0..250 {
            p.join(&format!("conn{i}"), entry(i));
        }
        tokio::time::sleep(std::time::Duration::from_millis(PRESENCE_DEBOUNCE_MS * 3)).await;
        assert!(matches!(rx.try_recv(), Ok(EngineEvent::PresenceChanged)));
        assert!(
            rx.try_recv().is_err(),
            "250 joins in one burst make one event"
        );
        let snap = p.snapshot();
        let list = snap.as_array().unwrap();
        assert_eq!(list.len(), PRESENCE_LIST_MAX, "the list is capped");
        assert_eq!(list[0]["instanceId"], "c249", "newest first");
        assert_eq!(p.count(), 250, "the count is exact");
        assert!(Arc::ptr_eq(&snap, &p.snapshot()), "built once per change");
        assert!(p.leave("conn3"));
        assert!(!Arc::ptr_eq(&snap, &p.snapshot()), "a leave rebuilds it");
    }
}
