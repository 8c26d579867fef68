//! Sessions an operator asked to watch (the session control action `monitor`, as Mission
//! Control sends it). Kept in memory, bounded; a deleted session leaves the list.

use microclaw_core::{Error, Result};
use parking_lot::Mutex;
use std::collections::HashMap;

/// Sessions watched at most; past it `monitor` is refused (nothing is dropped silently).
pub const MAX_WATCHED_SESSIONS: usize = 10_000;

#[derive(Debug, Default)]
pub struct WatchList {
    /// Session key → engine-clock ms when watching began.
    inner: Mutex<HashMap<String, i64>>,
}

impl WatchList {
    /// Marks `key` watched; returns since when and whether it is new.
    pub fn watch(&self, key: &str, now: i64) -> Result<(i64, bool)> {
        let mut map = self.inner.lock();
        if let Some(since) = map.get(key) {
            return Ok((*since, false));
        }
        if map.len() >= MAX_WATCHED_SESSIONS {
            return Err(Error::unavailable(format!(
                "{MAX_WATCHED_SESSIONS} sessions are watched already: expected fewer \
                 (deleting a session ends its watch)"
            )));
        }
        map.insert(key.to_string(), now);
        Ok((now, true))
    }

    /// Since when `key` is watched (None: not watched).
    pub fn since(&self, key: &str) -> Option<i64> {
        self.inner.lock().get(key).copied()
    }

    pub fn forget(&self, key: &str) {
        self.inner.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watching_is_idempotent_and_forgotten_on_delete() {
        let w = WatchList::default();
        assert_eq!(w.watch("a", 5).unwrap(), (5, true));
        assert_eq!(
            w.watch("a", 9).unwrap(),
            (5, false),
            "kept from the first time"
        );
        assert_eq!(w.since("a"), Some(5));
        w.forget("a");
        assert_eq!(w.since("a"), None);
    }
}
