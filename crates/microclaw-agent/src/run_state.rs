//! The registry's in-memory bookkeeping (behind one mutex, never held across an await).

use crate::run_types::RunOutcome;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Finished outcomes kept for `wait` after the run has ended.
const RECENT_OUTCOMES: usize = 512;

pub(crate) struct RunEntry {
    pub(crate) session_key: String,
    pub(crate) agent_id: String,
    pub(crate) started_at: i64,
    pub(crate) cancel: CancellationToken,
    /// Why the run was cancelled (set before `cancel` fires).
    pub(crate) reason: Arc<Mutex<Option<String>>>,
    pub(crate) done: watch::Receiver<Option<RunOutcome>>,
    pub(crate) idempotency_key: Option<String>,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) runs: HashMap<String, RunEntry>,
    /// (session key, idempotency key) → run id, for runs in flight (the store answers later).
    pub(crate) idem: HashMap<(String, String), String>,
    pub(crate) paused: HashSet<String>,
    pub(crate) recent: VecDeque<RunOutcome>,
    pub(crate) shutting_down: bool,
}

impl State {
    /// Forgets a run (and its idempotency reservation).
    pub(crate) fn remove_run(&mut self, run_id: &str) -> Option<RunEntry> {
        let entry = self.runs.remove(run_id)?;
        if let Some(idem) = &entry.idempotency_key {
            self.idem.remove(&(entry.session_key.clone(), idem.clone()));
        }
        Some(entry)
    }

    pub(crate) fn remember(&mut self, outcome: RunOutcome) {
        if self.recent.len() >= RECENT_OUTCOMES {
            self.recent.pop_front();
        }
        self.recent.push_back(outcome);
    }

    pub(crate) fn recent_outcome(&self, run_id: &str) -> Option<RunOutcome> {
        self.recent
            .iter()
            .rev()
            .find(|o| o.run_id == run_id)
            .cloned()
    }

    pub(crate) fn active_session_count(&self) -> usize {
        self.runs
            .values()
            .map(|r| r.session_key.as_str())
            .collect::<HashSet<_>>()
            .len()
    }

    /// Cancels the matching runs not already cancelled, recording `reason`; returns their ids.
    pub(crate) fn cancel_where(
        &self,
        reason: &str,
        pred: impl Fn(&str, &RunEntry) -> bool,
    ) -> Vec<String> {
        let mut ids = Vec::new();
        for (id, r) in &self.runs {
            if r.cancel.is_cancelled() || !pred(id, r) {
                continue;
            }
            r.reason.lock().get_or_insert_with(|| reason.to_string());
            r.cancel.cancel();
            ids.push(id.clone());
        }
        ids.sort();
        ids
    }
}
