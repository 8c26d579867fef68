//! Starting a run with OpenClaw's extras (a caller-chosen run id, a per-run thinking level or
//! model) and asking where a run stands, with a bounded wait (`agent.wait`).

use crate::run_registry::RunRegistry;
use crate::run_types::{RunLookup, RunOptions, RunOutcome, StartOutcome, StartRun};
use microclaw_core::Result;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

impl RunRegistry {
    /// [`RunRegistry::start`] with extras; a `run_id` already live answers with that run
    /// (`existing`), nothing new started.
    pub async fn start_with(&self, req: StartRun, opts: RunOptions) -> Result<StartOutcome> {
        crate::run_start::start(&self.core, req, opts).await
    }

    /// Where the run stands now.
    pub fn lookup(&self, run_id: &str) -> RunLookup {
        self.peek(run_id).0
    }

    /// The finished run's snapshot (None while running, or when unknown or expired).
    pub fn snapshot(&self, run_id: &str) -> Option<Arc<RunOutcome>> {
        let now = self.core.clock.now_ms();
        self.core.state.lock().snapshots.get(run_id, now)
    }

    /// Waits up to `timeout` for the run to end. Returns its snapshot when it ended (or had
    /// ended); otherwise where it stands at the deadline (`Active`, `Queued`), or `Unknown`
    /// at once for a run never seen (or ended too long ago).
    pub async fn wait_timeout(&self, run_id: &str, timeout: Duration) -> RunLookup {
        let (now, rx) = self.peek(run_id);
        let Some(mut rx) = rx else {
            return now;
        };
        let ended = tokio::time::timeout(timeout, rx.wait_for(Option::is_some)).await;
        if let Ok(Ok(outcome)) = ended {
            if let Some(o) = outcome.as_ref() {
                return RunLookup::Finished(Arc::new(o.clone()));
            }
        }
        self.lookup(run_id)
    }

    fn peek(&self, run_id: &str) -> (RunLookup, Option<watch::Receiver<Option<RunOutcome>>>) {
        let now = self.core.clock.now_ms();
        let st = self.core.state.lock();
        if let Some(r) = st.runs.get(run_id) {
            let at = if r.active {
                RunLookup::Active
            } else {
                RunLookup::Queued
            };
            return (at, Some(r.done.clone()));
        }
        match st.snapshots.get(run_id, now) {
            Some(o) => (RunLookup::Finished(o), None),
            None => (RunLookup::Unknown, None),
        }
    }
}
