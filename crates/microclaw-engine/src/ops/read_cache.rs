//! Serialized replies of repeated reads (`sessions.list` pages, `chat.history`), kept while
//! nothing they read can have changed: the store's write revision (every committed write of
//! this process) and the engine's state version (every event) are the same as when the reply
//! was built, and it is younger than [`READ_CACHE_MAX_AGE`] (real time: like the access
//! checks' counters, it bounds how late a write by another process is seen).
//!
//! Bounded: at most [`MAX_ENTRIES`] replies of at most [`MAX_ENTRY_BYTES`] each; any change
//! drops them all.

use crate::engine::Engine;
use parking_lot::Mutex;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a reply is served when nothing in this process changed.
pub const READ_CACHE_MAX_AGE: Duration = Duration::from_millis(100);
/// Replies kept at once (distinct pages and sessions).
pub const MAX_ENTRIES: usize = 64;
/// Larger replies are not kept (they would pin memory for little gain).
pub const MAX_ENTRY_BYTES: usize = 1 << 20;

/// What a cached reply was read at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Revision {
    writes: u64,
    events: u64,
}

#[derive(Debug)]
struct State {
    at: Revision,
    entries: HashMap<String, (Instant, Arc<RawValue>)>,
}

/// One engine's cached replies.
#[derive(Debug)]
pub struct ReadCache {
    state: Mutex<State>,
}

impl Default for ReadCache {
    fn default() -> Self {
        ReadCache {
            state: Mutex::new(State {
                at: Revision {
                    writes: u64::MAX,
                    events: u64::MAX,
                },
                entries: HashMap::new(),
            }),
        }
    }
}

fn revision(engine: &Engine) -> Revision {
    Revision {
        writes: engine.store().write_revision(),
        events: engine.state_version(),
    }
}

impl ReadCache {
    /// The reply kept under `key`, if nothing changed since it was built.
    /// (Shared, not copied: the caller writes it into its frame.)
    pub fn get(&self, engine: &Engine, key: &str) -> Option<Arc<RawValue>> {
        let now = revision(engine);
        let mut st = self.state.lock();
        if st.at != now {
            st.entries.clear();
            st.at = now;
            return None;
        }
        match st.entries.get(key) {
            Some((built, reply)) if built.elapsed() < READ_CACHE_MAX_AGE => Some(reply.clone()),
            Some(_) => {
                st.entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps `reply` for `key`, built from a read that started at `started` (taken with
    /// [`ReadCache::revision_now`] before the read): a change since then keeps nothing.
    pub fn put(&self, engine: &Engine, started: ReadStamp, key: String, reply: &Arc<RawValue>) {
        if reply.get().len() > MAX_ENTRY_BYTES || revision(engine) != started.0 {
            return;
        }
        let mut st = self.state.lock();
        if st.at != started.0 {
            return;
        }
        if st.entries.len() >= MAX_ENTRIES {
            st.entries.clear();
        }
        st.entries.insert(key, (Instant::now(), Arc::clone(reply)));
    }

    /// The revision a read starts at (pass it to [`ReadCache::put`]).
    pub fn revision_now(&self, engine: &Engine) -> ReadStamp {
        ReadStamp(revision(engine))
    }

    /// Replies kept now.
    pub fn len(&self) -> usize {
        self.state.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The revision a read started at.
#[derive(Debug, Clone, Copy)]
pub struct ReadStamp(Revision);
