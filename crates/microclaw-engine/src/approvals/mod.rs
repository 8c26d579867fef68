//! Approvals for acting tools (operations.md §1): the in-memory side — who waits on which
//! approval, what each run is doing right now — and the JSON shapes of the records. The
//! durable side is the store's `approvals` table; the operations are in `ops::approvals`.

pub mod gate;
pub mod restart;
pub mod shapes;

use parking_lot::Mutex;
use std::collections::HashMap;
use tokio::sync::oneshot;

/// How an approval ended, as told to the waiting tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// `allow-once` | `allow-always` | `deny`.
    pub decision: String,
    /// `user` | `expired` | `run-aborted` | `gateway-restart` | the operator's reason.
    pub reason: String,
}

/// What a run is doing in a tool right now (the "now running" view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunActivity {
    pub tool: String,
    pub since_ms: i64,
    /// The pending approval the call waits on.
    pub approval_id: Option<String>,
}

/// Held by the engine: waiters by approval id, activity by run id. Both shrink as calls end.
#[derive(Default)]
pub struct ApprovalState {
    waiters: Mutex<HashMap<String, oneshot::Sender<Settled>>>,
    activity: Mutex<HashMap<String, RunActivity>>,
}

impl ApprovalState {
    pub(crate) fn add_waiter(&self, id: &str) -> oneshot::Receiver<Settled> {
        let (tx, rx) = oneshot::channel();
        self.waiters.lock().insert(id.to_string(), tx);
        rx
    }

    /// Wakes the call waiting on `id` (nothing when none waits: it already gave up).
    pub(crate) fn wake(&self, id: &str, settled: Settled) {
        if let Some(tx) = self.waiters.lock().remove(id) {
            let _ = tx.send(settled);
        }
    }

    pub(crate) fn drop_waiter(&self, id: &str) {
        self.waiters.lock().remove(id);
    }

    pub(crate) fn set_activity(&self, run_id: &str, a: RunActivity) {
        self.activity.lock().insert(run_id.to_string(), a);
    }

    pub(crate) fn set_waiting(&self, run_id: &str, approval_id: Option<String>) {
        if let Some(a) = self.activity.lock().get_mut(run_id) {
            a.approval_id = approval_id;
        }
    }

    pub(crate) fn clear_activity(&self, run_id: &str) {
        self.activity.lock().remove(run_id);
    }

    /// Forgets the activity of runs no longer active (a killed run's call never clears it).
    pub(crate) fn retain_runs(&self, active: &std::collections::HashSet<&str>) {
        self.activity
            .lock()
            .retain(|k, _| active.contains(k.as_str()));
    }

    /// What `run_id` is doing in a tool, if it is in one.
    pub fn activity(&self, run_id: &str) -> Option<RunActivity> {
        self.activity.lock().get(run_id).cloned()
    }
}
