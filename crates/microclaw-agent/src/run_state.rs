//! The registry's in-memory bookkeeping (behind one mutex, never held across an await):
//! every known run, each session's lane (one active run + a FIFO queue) and the sessions
//! waiting for a slot under the global cap.

use crate::agent::Agent;
use crate::run_snapshots::RunSnapshots;
use crate::run_types::{RunOptions, RunOutcome, StartRun};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;

/// What every run (queued or active) shares with its task.
#[derive(Clone)]
pub(crate) struct RunHandle {
    pub(crate) cancel: CancellationToken,
    /// Why the run was cancelled (set before `cancel` fires).
    pub(crate) reason: Arc<Mutex<Option<String>>>,
    /// Set (before `cancel`) when the session was deleted or reset: persist nothing.
    pub(crate) discard: Arc<AtomicBool>,
    /// Usage counted so far (shown in listings while the run streams).
    pub(crate) usage: Arc<crate::budget_guard::LiveCounters>,
}

pub(crate) struct RunEntry {
    pub(crate) session_key: String,
    /// The agent when known (an explicit one, or once the run is active).
    pub(crate) agent_id: String,
    pub(crate) started_at: i64,
    pub(crate) handle: RunHandle,
    pub(crate) done: watch::Receiver<Option<RunOutcome>>,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) active: bool,
}

/// A message waiting for its turn; becomes a run when its lane (and a global slot) is free.
pub(crate) struct Queued {
    pub(crate) run_id: String,
    /// Normalized session key, trimmed idempotency key.
    pub(crate) req: StartRun,
    pub(crate) opts: RunOptions,
    /// An explicitly requested agent; else the session's stored agent, else `fallback`.
    pub(crate) agent: Option<Arc<dyn Agent>>,
    pub(crate) fallback: Arc<dyn Agent>,
    pub(crate) handle: RunHandle,
    pub(crate) gate: oneshot::Receiver<()>,
    pub(crate) done: watch::Sender<Option<RunOutcome>>,
}

/// One session's runs: at most one active, the rest queued in order.
#[derive(Default)]
pub(crate) struct Lane {
    pub(crate) active: Option<String>,
    pub(crate) queue: VecDeque<Queued>,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) runs: HashMap<String, RunEntry>,
    /// (session key, idempotency key) → run id, for runs in flight (the store answers later).
    pub(crate) idem: HashMap<(String, String), String>,
    pub(crate) paused: HashSet<String>,
    /// How finished runs ended (bounded by age, count and bytes).
    pub(crate) snapshots: RunSnapshots,
    pub(crate) shutting_down: bool,
    pub(crate) lanes: HashMap<String, Lane>,
    /// Sessions with a queue and no active run, waiting for a slot (invariant: a key is here
    /// exactly when its lane has no active run and a non-empty queue).
    pub(crate) ready: VecDeque<String>,
    /// Active runs over all sessions (≤ `sessions.max_concurrent_runs`).
    pub(crate) active_count: usize,
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

    pub(crate) fn remember(&mut self, outcome: RunOutcome, now_ms: i64) {
        self.snapshots.insert(outcome, now_ms);
    }

    pub(crate) fn recent_outcome(&self, run_id: &str, now_ms: i64) -> Option<RunOutcome> {
        self.snapshots.get(run_id, now_ms).map(|o| (*o).clone())
    }

    /// Sessions with an active run.
    pub(crate) fn active_session_count(&self) -> usize {
        self.lanes.values().filter(|l| l.active.is_some()).count()
    }

    /// Marks the lane's active run ended: frees its slot and, when the lane has a queue,
    /// lines the session up for the next slot; an empty lane is dropped.
    pub(crate) fn end_active(&mut self, key: &str, run_id: &str) {
        let Some(lane) = self.lanes.get_mut(key) else {
            return;
        };
        if lane.active.as_deref() != Some(run_id) {
            return;
        }
        lane.active = None;
        self.active_count = self.active_count.saturating_sub(1);
        if lane.queue.is_empty() {
            self.lanes.remove(key);
        } else {
            self.ready.push_back(key.to_string());
        }
    }

    /// Takes the queued runs that may start now (FIFO over sessions, one per session, up to
    /// `max_active` active in all), marking each active.
    pub(crate) fn take_startable(&mut self, max_active: usize) -> Vec<Queued> {
        let mut out = Vec::new();
        while self.active_count < max_active {
            let Some(key) = self.ready.pop_front() else {
                break;
            };
            let Some(lane) = self.lanes.get_mut(&key) else {
                continue;
            };
            if lane.active.is_some() {
                continue;
            }
            let Some(next) = lane.queue.pop_front() else {
                self.lanes.remove(&key);
                continue;
            };
            lane.active = Some(next.run_id.clone());
            self.active_count += 1;
            if let Some(e) = self.runs.get_mut(&next.run_id) {
                e.active = true;
            }
            out.push(next);
        }
        out
    }

    /// Removes queued runs of `key` matching `pred` (all when `pred` says so); keeps the
    /// ready list and the lane map consistent.
    pub(crate) fn drain_queued(
        &mut self,
        key: &str,
        pred: impl Fn(&Queued) -> bool,
    ) -> Vec<Queued> {
        let Some(lane) = self.lanes.get_mut(key) else {
            return Vec::new();
        };
        let (taken, kept): (Vec<_>, Vec<_>) = lane.queue.drain(..).partition(|q| pred(q));
        lane.queue = kept.into();
        if lane.queue.is_empty() {
            self.ready.retain(|k| k != key);
            if lane.active.is_none() {
                self.lanes.remove(key);
            }
        }
        for q in &taken {
            self.remove_run(&q.run_id);
        }
        taken
    }

    /// Cancels the matching active runs not already cancelled, recording `reason` (and the
    /// discard flag when `discard`); returns their ids.
    pub(crate) fn cancel_active_where(
        &self,
        reason: &str,
        discard: bool,
        pred: impl Fn(&str, &RunEntry) -> bool,
    ) -> Vec<String> {
        let mut ids = Vec::new();
        for (id, r) in &self.runs {
            if !r.active || !pred(id, r) {
                continue;
            }
            if discard {
                // Even for a run already cancelled (aborted just before a delete): no write.
                r.handle
                    .discard
                    .store(true, std::sync::atomic::Ordering::SeqCst);
            }
            if r.handle.cancel.is_cancelled() {
                continue;
            }
            r.handle
                .reason
                .lock()
                .get_or_insert_with(|| reason.to_string());
            r.handle.cancel.cancel();
            ids.push(id.clone());
        }
        ids.sort();
        ids
    }
}
