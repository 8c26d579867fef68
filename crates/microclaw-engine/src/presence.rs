//! Connected operator clients, for `presence` events and the UI's Gateway page.
//!
//! Joins and leaves are coalesced: one `PresenceChanged` event per burst (at most one every
//! [`PRESENCE_DEBOUNCE_MS`]), and the list pushed to clients (hello-ok's snapshot and the
//! `presence` event) is serialized once per change and capped at [`PRESENCE_LIST_MAX`] entries,
//! so 2,000 connections opening at once cost O(n), not O(n²). The cap also keeps the pushed
//! frame small: every connection's socket keeps a write buffer as large as the largest frame it
//! was sent, so a 100-entry list (~14 KB) pushed to 2,000 connections pinned ~28 MB. The whole
//! list (newest first, up to [`PRESENCE_FULL_MAX`]) is read with [`Presence::page`]
//! (`system-presence`, `GET /api/presence`).

use crate::events::EngineEvent;
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

/// The most entries a pushed `presence` list carries (newest first); the health snapshot's
/// `connections` gives the total, [`Presence::page`] the rest.
pub const PRESENCE_LIST_MAX: usize = 8;
/// The most entries one [`Presence::page`] returns.
pub const PRESENCE_FULL_MAX: usize = 2000;
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

/// The pushed list, built once per change: as a JSON tree (hello-ok's snapshot) and as the
/// `presence` event's payload text, `{"presence":[…]}` (written as is into every frame).
#[derive(Debug, Clone)]
pub struct PushedList {
    pub value: Arc<Value>,
    pub event_payload: Arc<str>,
}

/// One read of the whole list.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PresencePage {
    /// Connected clients in all.
    pub count: usize,
    /// Newest first, at most the limit asked for.
    pub presence: Vec<PresenceEntry>,
}

#[derive(Debug)]
pub struct Presence {
    entries: Mutex<BTreeMap<String, PresenceEntry>>,
    /// `entries.len()`, changed under the same lock.
    count: std::sync::atomic::AtomicUsize,
    version: AtomicU64,
    cached: Mutex<Option<(u64, PushedList)>>,
    pending: Arc<AtomicBool>,
    events: broadcast::Sender<EngineEvent>,
}

impl Presence {
    pub fn new(events: broadcast::Sender<EngineEvent>) -> Presence {
        Presence {
            entries: Mutex::new(BTreeMap::new()),
            count: std::sync::atomic::AtomicUsize::new(0),
            version: AtomicU64::new(0),
            cached: Mutex::new(None),
            pending: Arc::new(AtomicBool::new(false)),
            events,
        }
    }

    /// Adds (or replaces) a connection's entry, keyed by its connection id.
    pub fn join(&self, conn_id: &str, entry: PresenceEntry) {
        let mut entries = self.entries.lock();
        if entries.insert(conn_id.to_string(), entry).is_none() {
            self.count.fetch_add(1, Ordering::Relaxed);
        }
        drop(entries);
        self.changed();
    }

    /// Removes a connection; true when it was present.
    pub fn leave(&self, conn_id: &str) -> bool {
        let mut entries = self.entries.lock();
        let was = entries.remove(conn_id).is_some();
        if was {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
        drop(entries);
        if was {
            self.changed();
        }
        was
    }

    pub fn list(&self) -> Vec<PresenceEntry> {
        self.entries.lock().values().cloned().collect()
    }

    /// Connected clients (kept beside the map: `health` reads it on every call).
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Bumps on every join and leave (hello-ok's `stateVersion.presence`).
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    /// The list pushed to clients: newest first, at most [`PRESENCE_LIST_MAX`] entries, built
    /// once per change and shared.
    pub fn snapshot(&self) -> Arc<Value> {
        self.pushed().value
    }

    /// [`Presence::snapshot`] and its JSON text, for writing the same frame to many sockets.
    pub fn pushed(&self) -> PushedList {
        let v = self.version();
        if let Some((at, list)) = &*self.cached.lock() {
            if *at == v {
                return list.clone();
            }
        }
        let entries = self.newest(PRESENCE_LIST_MAX);
        let value = serde_json::to_value(&entries).unwrap_or(Value::Array(vec![]));
        let event_payload: Arc<str> = format!("{{\"presence\":{value}}}").into();
        let list = PushedList {
            value: Arc::new(value),
            event_payload,
        };
        *self.cached.lock() = Some((v, list.clone()));
        list
    }

    /// The whole list, newest first, at most `limit` (and [`PRESENCE_FULL_MAX`]) entries.
    pub fn page(&self, limit: usize) -> PresencePage {
        PresencePage {
            count: self.count(),
            presence: self.newest(limit.min(PRESENCE_FULL_MAX)),
        }
    }

    fn newest(&self, limit: usize) -> Vec<PresenceEntry> {
        let mut entries = self.list();
        entries.sort_by_key(|e| std::cmp::Reverse(e.ts));
        entries.truncate(limit);
        entries
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
        let text: Value = serde_json::from_str(&p.pushed().event_payload).unwrap();
        assert_eq!(text["presence"], *snap, "the event's text carries the list");
        let page = p.page(1000);
        assert_eq!(page.count, 250);
        assert_eq!(page.presence.len(), 250, "a page has them all");
        assert_eq!(page.presence[0].instance_id, "c249");
        assert_eq!(page.presence[249].instance_id, "c0", "newest first");
        assert_eq!(p.page(3).presence.len(), 3);
        p.join("conn7", entry(7));
        assert_eq!(p.count(), 250, "a rejoin replaces, it does not count twice");
        assert!(p.leave("conn3"));
        assert!(!p.leave("conn3"), "a second leave is nothing");
        assert_eq!(p.count(), 249);
        assert!(!Arc::ptr_eq(&snap, &p.snapshot()), "a leave rebuilds it");
    }
}
