//! Finished-run snapshots: how recent runs ended, for `wait`, `agent.wait` and the cached final
//! of a repeated `agent` idempotency key. Bounded three ways: each snapshot lives
//! [`SNAPSHOT_TTL_MS`] (by the registry's clock, so tests pass time in), at most
//! [`SNAPSHOT_MAX_RUNS`] are kept, and their reply texts together hold at most
//! [`SNAPSHOT_MAX_TEXT_BYTES`] (the oldest go first).

use crate::run_types::RunOutcome;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// How long a finished run is remembered (OpenClaw keeps ~10 minutes).
pub const SNAPSHOT_TTL_MS: i64 = 10 * 60 * 1000;
/// Most finished runs remembered at once.
pub const SNAPSHOT_MAX_RUNS: usize = 5_000;
/// Most reply bytes held by the snapshots together.
pub const SNAPSHOT_MAX_TEXT_BYTES: usize = 64 * 1024 * 1024;

pub(crate) struct RunSnapshots {
    by_id: HashMap<String, (Arc<RunOutcome>, i64)>,
    /// (run id, expiry) in insertion order; an id re-inserted later leaves a stale entry that
    /// is skipped when its expiry does not match the map's.
    order: VecDeque<(String, i64)>,
    text_bytes: usize,
    ttl_ms: i64,
    max_runs: usize,
    max_text_bytes: usize,
}

impl Default for RunSnapshots {
    fn default() -> Self {
        RunSnapshots::new(SNAPSHOT_TTL_MS, SNAPSHOT_MAX_RUNS, SNAPSHOT_MAX_TEXT_BYTES)
    }
}

impl RunSnapshots {
    pub(crate) fn new(ttl_ms: i64, max_runs: usize, max_text_bytes: usize) -> Self {
        RunSnapshots {
            by_id: HashMap::new(),
            order: VecDeque::new(),
            text_bytes: 0,
            ttl_ms,
            max_runs: max_runs.max(1),
            max_text_bytes,
        }
    }

    /// Remembers a finished run at `now_ms` (replacing an older snapshot of the same id).
    pub(crate) fn insert(&mut self, outcome: RunOutcome, now_ms: i64) {
        self.expire(now_ms);
        let expires = now_ms.saturating_add(self.ttl_ms);
        let id = outcome.run_id.clone();
        self.text_bytes += outcome.text.len();
        if let Some((old, _)) = self.by_id.insert(id.clone(), (Arc::new(outcome), expires)) {
            self.text_bytes -= old.text.len();
        }
        self.order.push_back((id, expires));
        while self.by_id.len() > self.max_runs
            || (self.text_bytes > self.max_text_bytes && self.by_id.len() > 1)
        {
            if !self.pop_oldest() {
                break;
            }
        }
    }

    /// The snapshot of `run_id` when it has not expired at `now_ms`.
    pub(crate) fn get(&self, run_id: &str, now_ms: i64) -> Option<Arc<RunOutcome>> {
        let (o, expires) = self.by_id.get(run_id)?;
        (*expires > now_ms).then(|| o.clone())
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Drops the snapshots expired at `now_ms`.
    pub(crate) fn expire(&mut self, now_ms: i64) {
        while let Some((_, expires)) = self.order.front() {
            if *expires > now_ms {
                break;
            }
            self.pop_oldest();
        }
    }

    /// Removes the oldest entry (a stale order entry just goes); false when empty.
    fn pop_oldest(&mut self) -> bool {
        let Some((id, expires)) = self.order.pop_front() else {
            return false;
        };
        if self.by_id.get(&id).is_some_and(|(_, e)| *e == expires) {
            if let Some((o, _)) = self.by_id.remove(&id) {
                self.text_bytes -= o.text.len();
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_types::ChatState;

    fn outcome(id: &str, text: &str) -> RunOutcome {
        RunOutcome {
            run_id: id.into(),
            session_key: "main".into(),
            state: ChatState::Final,
            text: text.into(),
            error_message: None,
            stop_reason: None,
            persisted: true,
            input_tokens: 1,
            output_tokens: 1,
            latency_ms: 5,
            agent_id: "builtin".into(),
            provider: "microclaw".into(),
            model: "builtin-operator".into(),
            session_id: None,
            started_at: 0,
            ended_at: 5,
            usage: None,
        }
    }

    #[test]
    fn snapshots_expire_after_the_ttl_by_the_given_clock() {
        let mut s = RunSnapshots::default();
        s.insert(outcome("a", "x"), 1_000);
        assert!(s.get("a", 1_000 + SNAPSHOT_TTL_MS - 1).is_some());
        assert!(
            s.get("a", 1_000 + SNAPSHOT_TTL_MS).is_none(),
            "gone after 10 minutes"
        );
        s.insert(outcome("b", "y"), 1_000 + SNAPSHOT_TTL_MS);
        assert_eq!(s.len(), 1, "the expired one was dropped on insert");
    }

    #[test]
    fn at_most_max_runs_are_kept_oldest_first_out() {
        let mut s = RunSnapshots::new(SNAPSHOT_TTL_MS, 3, usize::MAX);
        for (i, id) in ["a", "b", "c", "d"].iter().enumerate() {
            s.insert(outcome(id, ""), i as i64);
        }
        assert_eq!(s.len(), 3);
        assert!(s.get("a", 10).is_none());
        assert!(s.get("d", 10).is_some());
        // Re-inserting an id keeps one snapshot and does not evict the newer one early.
        s.insert(outcome("b", "again"), 20);
        assert_eq!(s.len(), 3);
        assert_eq!(s.get("b", 21).unwrap().text, "again");
        s.insert(outcome("e", ""), 22);
        assert!(s.get("b", 23).is_some(), "b was refreshed at 20");
        assert!(s.get("c", 23).is_none());
    }

    #[test]
    fn reply_bytes_are_bounded() {
        let mut s = RunSnapshots::new(SNAPSHOT_TTL_MS, 100, 10);
        s.insert(outcome("a", "123456"), 0);
        s.insert(outcome("b", "123456"), 1);
        assert!(s.get("a", 2).is_none(), "over 10 bytes: the oldest went");
        assert!(s.get("b", 2).is_some());
        s.insert(outcome("big", &"z".repeat(50)), 3);
        assert_eq!(s.len(), 1, "a single large reply is still kept");
    }
}
