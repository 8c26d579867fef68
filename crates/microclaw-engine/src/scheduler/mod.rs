//! The scheduler: jobs fire on the engine clock (tests pass a ManualClock), each due run is an
//! ordinary run; failures retry on a backoff ladder, then land in the dead-letter queue.
//!
//! The loop wakes every [`TICK`] of real time (or at once when a job changes) and compares the
//! engine clock with the earliest due instant; it reads the job table only when something is
//! due or changed.

pub mod job;
mod planner;
mod runner;
pub mod schedule;

pub use runner::{fire, Attempt, FireError};

use crate::engine::Engine;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const TICK: Duration = Duration::from_millis(100);
/// Bounds: jobs, attempts kept per job, DLQ items, missed runs replayed by `catchUp: "all"`.
pub const MAX_JOBS: i64 = 500;
pub const RUNS_KEPT_PER_JOB: i64 = 200;
pub const MAX_DLQ_ITEMS: i64 = 1000;
pub const MAX_CATCH_UP_RUNS: usize = 24;
/// A fire time later than this behind the clock counts as missed (follows `catchUp`).
pub const ON_TIME_GRACE_MS: i64 = 60_000;

/// The scheduler's in-memory part (one per engine).
#[derive(Debug)]
pub struct SchedulerState {
    /// Jobs with an attempt in flight → when it started.
    pub(crate) running: Mutex<HashMap<String, i64>>,
    pub(crate) wake: tokio::sync::Notify,
    dirty: AtomicBool,
    next_wake: AtomicI64,
    pub(crate) process_id: String,
    pub(crate) manual_seq: AtomicU64,
    pub(crate) started: AtomicBool,
}

impl Default for SchedulerState {
    fn default() -> Self {
        SchedulerState {
            running: Mutex::new(HashMap::new()),
            wake: tokio::sync::Notify::new(),
            dirty: AtomicBool::new(true),
            next_wake: AtomicI64::new(i64::MAX),
            process_id: uuid::Uuid::new_v4().to_string(),
            manual_seq: AtomicU64::new(0),
            started: AtomicBool::new(false),
        }
    }
}

impl SchedulerState {
    /// A job changed or an attempt ended: re-read the jobs on the next tick.
    pub fn poke(&self) {
        self.dirty.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }
    pub fn next_wake_ms(&self) -> Option<i64> {
        Some(self.next_wake.load(Ordering::SeqCst)).filter(|n| *n != i64::MAX)
    }
    pub fn is_running(&self, job_id: &str) -> Option<i64> {
        self.running.lock().get(job_id).copied()
    }
    pub fn is_started(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }
}

/// Starts the loop (from `Engine::start_background`): closes attempts a stopped process left
/// open, then ticks until `stop`.
pub fn spawn(engine: Arc<Engine>, stop: CancellationToken) {
    engine.scheduler().started.store(true, Ordering::SeqCst);
    tokio::spawn(async move {
        runner::recover_interrupted(&engine).await;
        loop {
            if let Err(e) = tick(&engine).await {
                tracing::warn!("scheduler tick failed: {e}");
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = engine.scheduler().wake.notified() => {}
                _ = tokio::time::sleep(TICK) => {}
            }
        }
    });
}

/// One pass: fires what is due at the engine clock's now.
pub async fn tick(engine: &Arc<Engine>) -> microclaw_core::Result<()> {
    let st = engine.scheduler();
    let now = engine.now_ms();
    if !st.dirty.swap(false, Ordering::SeqCst) && now < st.next_wake.load(Ordering::SeqCst) {
        return Ok(());
    }
    let rows = engine.store().read_async(|s| s.sched_job_list()).await?;
    let mut wake = i64::MAX;
    for row in rows {
        if !row.enabled || st.is_running(&row.id).is_some() {
            continue;
        }
        match planner::plan_job(engine, &row, now).await {
            Ok(Some(at)) => wake = wake.min(at),
            Ok(None) => {}
            Err(e) => tracing::warn!("scheduler: job {} could not be planned: {e}", row.id),
        }
    }
    st.next_wake.store(wake, Ordering::SeqCst);
    Ok(())
}
