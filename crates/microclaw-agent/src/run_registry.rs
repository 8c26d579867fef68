//! The run registry: starts agent runs (one active per session, the rest queued), fans their
//! coalesced deltas out on one broadcast channel, and aborts, kills, discards, pauses, waits
//! for and shuts them down.
//!
//! Choices (documented for the transports, see docs/agents.md):
//! - **Release gate**: `start` returns before any event; the run emits nothing until the
//!   returned [`StartOutcome`] is released or dropped (see its docs).
//! - **Per-session queue**: one active run per session; a message sent meanwhile waits FIFO
//!   (`status: accepted`), at most `sessions.max_queued_per_session` (beyond: UNAVAILABLE,
//!   retryable). `interrupt` aborts the active run and runs next; `steer`/`collect` = followup.
//!   A queued message is stored only when its run starts (so transcripts never interleave).
//! - **Global cap**: at most `sessions.max_concurrent_runs` active runs; a run beyond it waits
//!   in its session's queue (sessions get free slots in the order they asked).
//! - **Timeout** ends a run in state `error` with "run timed out after N s", stop reason
//!   `timeout`; `aborted` is reserved for operator actions (abort, kill, interrupt, shutdown).
//! - **Killed and failed runs** persist their partial text (or nothing) as an assistant message
//!   with a stop reason; a run **discarded** by delete/reset persists nothing, and no run's
//!   reply is appended unless its session still exists in the generation it started in.
//! - **Pause**: a paused session refuses new runs with CONFLICT until resumed; runs already
//!   in flight continue. Pause state lives in memory (a restart or a delete clears it).

use crate::agent_set::AgentSet;
use crate::run_state::State;
use crate::run_types::{ActiveRun, ChatEvent, RunOutcome, StartOutcome, StartRun};
use microclaw_core::config::SessionsConfig;
use microclaw_core::{normalize_session_key, Result, SharedClock};
use microclaw_metrics::Metrics;
use microclaw_store::Store;
use parking_lot::Mutex;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, Notify};

/// Capacity of the chat event channel (slow subscribers see `Lagged`).
pub const EVENT_CAPACITY: usize = 1024;
/// Messages of recent context handed to the agent.
pub const HISTORY_MESSAGES: u32 = 20;
/// Suggested wait before retrying a start refused because the session's queue is full.
pub const QUEUE_RETRY_MS: u64 = 1000;
/// The `runs` table is pruned on the first run start and then every this many starts.
pub const PRUNE_EVERY: u64 = 256;
/// How long `shutdown` waits for aborted runs to write their terminal state.
const SHUTDOWN_ABORT_WAIT: Duration = Duration::from_secs(3);

/// Abort reasons carried on the terminal `aborted` event and stored in the run row.
pub const REASON_ABORTED: &str = "aborted";
pub const REASON_KILLED: &str = "killed";
pub const REASON_INTERRUPTED: &str = "interrupted by a newer message (queueMode interrupt)";
pub const REASON_DISCARDED: &str = "session deleted or reset";
pub const REASON_SHUTDOWN: &str = "gateway shutting down";

/// Receives `(session key, reason)` for every store change a run makes: `created` when a
/// run's user message created the session, `updated` when a message was appended.
pub type SessionsSink = Arc<dyn Fn(String, &'static str) + Send + Sync>;

pub(crate) struct Core {
    pub(crate) store: Store,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) agents: AgentSet,
    pub(crate) clock: SharedClock,
    pub(crate) events: broadcast::Sender<ChatEvent>,
    pub(crate) state: Mutex<State>,
    /// Signalled whenever a run ends.
    pub(crate) changed: Notify,
    pub(crate) queue_bound: usize,
    pub(crate) max_active: usize,
    pub(crate) default_timeout_secs: u64,
    pub(crate) retention_rows: u64,
    pub(crate) retention_ms: i64,
    /// Runs begun since start (drives the periodic prune).
    pub(crate) begun: AtomicU64,
    sink: Mutex<Option<SessionsSink>>,
    /// Where every run's `agent` events go (set once by the engine).
    pub(crate) agent_sink: std::sync::OnceLock<crate::run_agent_events::AgentEventSink>,
    /// Who admits, meters and settles runs against the budgets (set once by the engine).
    pub(crate) budget: std::sync::OnceLock<Arc<dyn crate::budget_guard::BudgetGuard>>,
}

/// Starts and tracks runs. Cheap to share (`Arc`).
pub struct RunRegistry {
    pub(crate) core: Arc<Core>,
}

impl RunRegistry {
    pub fn new(
        store: Store,
        metrics: Arc<Metrics>,
        agents: AgentSet,
        clock: SharedClock,
        cfg: &SessionsConfig,
    ) -> Arc<Self> {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let days = i64::try_from(cfg.runs_retention_days).unwrap_or(i64::MAX / 86_400_000);
        let core = Core {
            store,
            metrics,
            agents,
            clock,
            events,
            state: Mutex::new(State::default()),
            changed: Notify::new(),
            queue_bound: cfg.queue_bound(),
            max_active: cfg.max_concurrent_runs.max(1),
            default_timeout_secs: cfg.run_timeout_seconds,
            retention_rows: cfg.runs_retention_rows,
            retention_ms: days.saturating_mul(86_400_000),
            begun: AtomicU64::new(0),
            sink: Mutex::new(None),
            agent_sink: std::sync::OnceLock::new(),
            budget: std::sync::OnceLock::new(),
        };
        Arc::new(RunRegistry {
            core: Arc::new(core),
        })
    }

    /// Where runs report their session changes (the engine turns them into `sessions.changed`).
    pub fn set_sessions_sink(&self, sink: SessionsSink) {
        *self.core.sink.lock() = Some(sink);
    }

    /// Where every run's `agent` events go (the first sink set wins).
    pub fn set_agent_event_sink(&self, sink: crate::run_agent_events::AgentEventSink) {
        let _ = self.core.agent_sink.set(sink);
    }

    /// Who keeps the budgets (the first guard set wins): new runs are admitted by it and
    /// running ones metered while they stream.
    pub fn set_budget_guard(&self, guard: Arc<dyn crate::budget_guard::BudgetGuard>) {
        let _ = self.core.budget.set(guard);
    }

    pub fn agents(&self) -> &AgentSet {
        &self.core.agents
    }

    /// Every coalesced delta and terminal event of every run.
    pub fn subscribe(&self) -> broadcast::Receiver<ChatEvent> {
        self.core.events.subscribe()
    }

    /// Sends `ev` to every chat subscriber as if a run had emitted it (`chat.inject`'s final).
    pub fn publish(&self, ev: ChatEvent) {
        // No receivers is fine: nobody is connected.
        let _ = self.core.events.send(ev);
    }

    /// Starts the run now (its user message and run row stored before this returns) or queues
    /// it behind the session's active run; see [`StartOutcome::status`] and the release gate.
    pub async fn start(&self, req: StartRun) -> Result<StartOutcome> {
        crate::run_start::start(&self.core, req, Default::default()).await
    }

    /// Aborts the session's active run, or only `run_id` when given (active or queued);
    /// returns the ids newly aborted. Queued messages other than `run_id` stay queued.
    pub fn abort(&self, session_key: &str, run_id: Option<&str>) -> Vec<String> {
        let key = norm(session_key);
        let mut ids = self
            .core
            .state
            .lock()
            .cancel_active_where(REASON_ABORTED, false, |id, r| {
                r.session_key == key && run_id.is_none_or(|want| want == id)
            });
        if let Some(want) = run_id {
            let dropped =
                crate::run_unstarted::drop_queued(&self.core, &key, REASON_ABORTED, |q| {
                    q.run_id == want
                });
            ids.extend(dropped);
        }
        ids
    }

    /// Aborts the session's active run and drops its queued messages (reason "killed");
    /// returns how many runs ended.
    pub fn kill(&self, session_key: &str) -> usize {
        let key = norm(session_key);
        let active = self
            .core
            .state
            .lock()
            .cancel_active_where(REASON_KILLED, false, |_, r| r.session_key == key);
        let dropped = crate::run_unstarted::drop_queued(&self.core, &key, REASON_KILLED, |_| true);
        active.len() + dropped.len()
    }

    /// For delete and reset (call before the store change): ends the session's runs without
    /// persisting anything, drops its queue and forgets its pause; returns how many runs ended.
    pub fn discard(&self, session_key: &str) -> usize {
        let key = norm(session_key);
        let active = {
            let mut st = self.core.state.lock();
            st.paused.remove(&key);
            st.cancel_active_where(REASON_DISCARDED, true, |_, r| r.session_key == key)
        };
        let dropped =
            crate::run_unstarted::drop_queued(&self.core, &key, REASON_DISCARDED, |_| true);
        active.len() + dropped.len()
    }

    /// Refuses new runs for the session until [`RunRegistry::resume`]; true when newly paused.
    pub fn pause(&self, session_key: &str) -> bool {
        self.core.state.lock().paused.insert(norm(session_key))
    }

    /// True when the session was paused.
    pub fn resume(&self, session_key: &str) -> bool {
        self.core.state.lock().paused.remove(&norm(session_key))
    }

    pub fn is_paused(&self, session_key: &str) -> bool {
        self.core.state.lock().paused.contains(&norm(session_key))
    }

    /// How many sessions are paused (the set is cleared by resume, delete and reset).
    pub fn paused_count(&self) -> usize {
        self.core.state.lock().paused.len()
    }

    /// Active runs (queued ones not counted).
    pub fn active_runs(&self) -> usize {
        self.core.state.lock().active_count
    }

    /// Messages waiting in session queues.
    pub fn queued_runs(&self) -> usize {
        let st = self.core.state.lock();
        st.lanes.values().map(|l| l.queue.len()).sum()
    }

    /// True when the session has an active or a queued run.
    pub fn has_active(&self, session_key: &str) -> bool {
        self.core
            .state
            .lock()
            .lanes
            .contains_key(&norm(session_key))
    }

    /// Sessions with an active run.
    pub fn active_session_count(&self) -> usize {
        self.core.state.lock().active_session_count()
    }

    /// The active runs, oldest first.
    pub fn active_list(&self) -> Vec<ActiveRun> {
        let st = self.core.state.lock();
        let mut rows: Vec<ActiveRun> = st
            .runs
            .iter()
            .filter(|(_, r)| r.active)
            .map(|(id, r)| {
                let live = r.handle.usage.load();
                ActiveRun {
                    run_id: id.clone(),
                    session_key: r.session_key.clone(),
                    agent_id: r.agent_id.clone(),
                    started_at: r.started_at,
                    input_tokens: live.input_tokens,
                    output_tokens: live.output_tokens,
                    tool_calls: live.tool_calls,
                }
            })
            .collect();
        rows.sort_by_key(|r| r.started_at);
        rows
    }

    /// Waits for the run's outcome (a queued run's too). `None` for an unknown run (or one
    /// that ended too long ago to be remembered: snapshots are kept ~10 minutes, at most
    /// 5,000).
    pub async fn wait(&self, run_id: &str) -> Option<RunOutcome> {
        let mut rx = {
            let st = self.core.state.lock();
            match st.runs.get(run_id) {
                Some(r) => r.done.clone(),
                None => return st.recent_outcome(run_id, self.core.clock.now_ms()),
            }
        };
        let outcome = rx.wait_for(Option::is_some).await.ok()?;
        outcome.clone()
    }

    /// Prunes finished rows of the `runs` table beyond the configured retention now (it also
    /// happens on the first run start and every [`PRUNE_EVERY`] starts); returns how many.
    pub async fn prune_runs(&self) -> Result<u64> {
        self.core.prune().await
    }

    /// Refuses new runs, waits up to `grace` for runs in flight, then aborts the rest (each
    /// ends `aborted` with "gateway shutting down"; queued ones are dropped) and waits briefly
    /// for them to record it.
    pub async fn shutdown(&self, grace: Duration) {
        self.core.state.lock().shutting_down = true;
        let deadline = tokio::time::Instant::now() + grace;
        self.wait_idle_until(deadline).await;
        let keys: Vec<String> = self.core.state.lock().lanes.keys().cloned().collect();
        let mut dropped = 0;
        for key in &keys {
            dropped +=
                crate::run_unstarted::drop_queued(&self.core, key, REASON_SHUTDOWN, |_| true).len();
        }
        let aborted = self
            .core
            .state
            .lock()
            .cancel_active_where(REASON_SHUTDOWN, false, |_, _| true);
        if !aborted.is_empty() || dropped > 0 {
            tracing::info!(
                active = aborted.len(),
                queued = dropped,
                "aborting runs still in flight at shutdown"
            );
            self.wait_idle_until(tokio::time::Instant::now() + SHUTDOWN_ABORT_WAIT)
                .await;
        }
    }

    async fn wait_idle_until(&self, deadline: tokio::time::Instant) {
        loop {
            let notified = self.core.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.core.state.lock().runs.is_empty() {
                return;
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(deadline) => return,
            }
        }
    }
}

impl Core {
    pub(crate) fn publish_active_sessions(&self) {
        let n = self.state.lock().active_session_count();
        self.metrics.set_active_sessions(n as i64);
    }

    /// Reports a session change to the sink (when one is set).
    pub(crate) fn session_changed(&self, key: &str, reason: &'static str) {
        let sink = self.sink.lock().clone();
        if let Some(sink) = sink {
            sink(key.to_string(), reason);
        }
    }

    pub(crate) async fn prune(&self) -> Result<u64> {
        let (rows, age, now) = (self.retention_rows, self.retention_ms, self.clock.now_ms());
        let n = self
            .store
            .write_async(move |s| s.runs_prune(rows, age, now))
            .await?;
        if n > 0 {
            tracing::debug!(pruned = n, "pruned finished runs beyond the retention");
        }
        Ok(n)
    }
}

/// The normalized key (`""` → `main`); an invalid key is used as given (it matches nothing).
fn norm(session_key: &str) -> String {
    normalize_session_key(Some(session_key)).unwrap_or_else(|_| session_key.to_string())
}
