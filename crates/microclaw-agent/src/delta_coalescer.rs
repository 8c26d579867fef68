//! Coalescing a run's chunks into deltas: at most one delta per [`DELTA_INTERVAL`] (the first
//! chunk goes out at once), the chunks in between merged. The reply is kept once (`text`, grown
//! in place), the merged chunk once (`pending`), so a reply of n bytes costs O(n) in copies;
//! the cumulative text rides along on a delta only while the reply is at most
//! [`CUMULATIVE_TEXT_MAX`] bytes.

use crate::run_types::CUMULATIVE_TEXT_MAX;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The shortest gap between two deltas of one run.
pub const DELTA_INTERVAL: Duration = Duration::from_millis(50);
/// A merged chunk this large goes out at once (keeps every delta well under `maxPayload`).
pub const MAX_DELTA_BYTES: usize = 64 * 1024;

/// One delta ready to emit.
pub(crate) struct Delta {
    pub(crate) chunk: Arc<str>,
    pub(crate) cumulative: Option<Arc<str>>,
    pub(crate) len: usize,
}

#[derive(Default)]
pub(crate) struct Coalescer {
    /// The reply so far.
    pub(crate) text: String,
    pending: String,
    last_flush: Option<Instant>,
}

impl Coalescer {
    /// Adds a chunk; true when a delta is due now (call [`Coalescer::take`]).
    pub(crate) fn push(&mut self, chunk: &str, now: Instant) -> bool {
        self.text.push_str(chunk);
        self.pending.push_str(chunk);
        self.pending.len() >= MAX_DELTA_BYTES || self.due_at(now).is_some_and(|t| t <= now)
    }

    /// When the merged chunk must go out (None when nothing is pending; `now` before the
    /// first delta).
    pub(crate) fn due_at(&self, now: Instant) -> Option<Instant> {
        if self.pending.is_empty() {
            return None;
        }
        Some(match self.last_flush {
            Some(t) => t + DELTA_INTERVAL,
            None => now,
        })
    }

    /// The merged chunk since the last delta (None when nothing is pending).
    pub(crate) fn take(&mut self, now: Instant) -> Option<Delta> {
        if self.pending.is_empty() {
            return None;
        }
        self.last_flush = Some(now);
        let chunk: Arc<str> = Arc::from(self.pending.as_str());
        self.pending.clear();
        if self.pending.capacity() > 4 * MAX_DELTA_BYTES {
            self.pending.shrink_to(MAX_DELTA_BYTES);
        }
        let len = self.text.len();
        let cumulative = (len <= CUMULATIVE_TEXT_MAX).then(|| Arc::from(self.text.as_str()));
        Some(Delta {
            chunk,
            cumulative,
            len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_within_the_interval_merge_into_one_delta() {
        let t0 = Instant::now();
        let mut c = Coalescer::default();
        assert!(c.push("a", t0), "the first chunk is due at once");
        let d = c.take(t0).unwrap();
        assert_eq!((&*d.chunk, d.cumulative.as_deref()), ("a", Some("a")));
        assert!(!c.push("b", t0 + Duration::from_millis(10)));
        assert!(!c.push("c", t0 + Duration::from_millis(20)));
        assert_eq!(c.due_at(t0), Some(t0 + DELTA_INTERVAL));
        assert!(c.push("d", t0 + DELTA_INTERVAL));
        let d = c.take(t0 + DELTA_INTERVAL).unwrap();
        assert_eq!((&*d.chunk, d.len), ("bcd", 4));
        assert!(c.take(t0 + DELTA_INTERVAL).is_none(), "nothing pending");
    }

    #[test]
    fn a_large_merged_chunk_is_due_at_once_and_long_replies_drop_the_cumulative_text() {
        let t0 = Instant::now();
        let mut c = Coalescer::default();
        c.push("x", t0);
        c.take(t0);
        let big = "y".repeat(MAX_DELTA_BYTES);
        assert!(
            c.push(&big, t0),
            "a full merged chunk goes out before the interval"
        );
        let d = c.take(t0).unwrap();
        assert_eq!(d.chunk.len(), MAX_DELTA_BYTES);
        assert!(
            d.cumulative.is_none(),
            "the reply is past 64 KiB: no cumulative text"
        );
        assert_eq!(d.len, MAX_DELTA_BYTES + 1);
    }
}
