//! The run registry: starts agent runs, fans their chunks out on one broadcast channel, and
//! aborts, kills, pauses, waits for and shuts them down.
//!
//! Choices (documented for the transports):
//! - **Release gate**: `start` returns before any event; the run emits nothing until the
//!   returned [`StartOutcome`] is released or dropped (see its docs).
//! - **Timeout** ends a run in state `error` with "run timed out after N s" (a timeout is a
//!   failure and counts against the success SLO; `aborted` is reserved for operator actions).
//! - **Pause**: a paused session refuses new runs with CONFLICT until resumed; runs already
//!   in flight continue. Pause state lives in memory (a restart clears it).
//! - Any terminal state with non-empty text persists that text as the assistant message.

use crate::agent::AgentRequest;
use crate::agent_set::AgentSet;
use crate::run_state::{RunEntry, State};
use crate::run_task::{drive, RunCtx};
use crate::run_types::{ActiveRun, ChatEvent, RunOutcome, StartOutcome, StartRun};
use microclaw_core::config::SessionsConfig;
use microclaw_core::{normalize_session_key, Error, Result, SharedClock};
use microclaw_metrics::Metrics;
use microclaw_store::Store;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, oneshot, watch, Notify};
use tokio_util::sync::CancellationToken;

/// Capacity of the chat event channel (slow subscribers see `Lagged`).
pub const EVENT_CAPACITY: usize = 1024;
/// Messages of recent context handed to the agent.
pub const HISTORY_MESSAGES: u32 = 20;
/// Suggested wait before retrying a start refused for the in-flight limit.
pub const INFLIGHT_RETRY_MS: u64 = 1000;
/// How long `shutdown` waits for aborted runs to write their terminal state.
const SHUTDOWN_ABORT_WAIT: Duration = Duration::from_secs(3);

/// Abort reasons carried on the terminal `aborted` event and stored in the run row.
pub const REASON_ABORTED: &str = "aborted";
pub const REASON_KILLED: &str = "killed";
pub const REASON_SHUTDOWN: &str = "gateway shutting down";

pub(crate) struct Core {
    pub(crate) store: Store,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) agents: AgentSet,
    pub(crate) clock: SharedClock,
    pub(crate) events: broadcast::Sender<ChatEvent>,
    pub(crate) state: Mutex<State>,
    /// Signalled whenever a run ends.
    pub(crate) changed: Notify,
    max_inflight: usize,
    default_timeout_secs: u64,
}

/// Starts and tracks runs. Cheap to share (`Arc`).
pub struct RunRegistry {
    core: Arc<Core>,
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
        let core = Core {
            store,
            metrics,
            agents,
            clock,
            events,
            state: Mutex::new(State::default()),
            changed: Notify::new(),
            max_inflight: cfg.max_inflight_per_session.max(1),
            default_timeout_secs: cfg.run_timeout_seconds,
        };
        Arc::new(RunRegistry {
            core: Arc::new(core),
        })
    }

    pub fn agents(&self) -> &AgentSet {
        &self.core.agents
    }

    /// Every chunk and terminal event of every run.
    pub fn subscribe(&self) -> broadcast::Receiver<ChatEvent> {
        self.core.events.subscribe()
    }

    /// Persists the user message and the run row, spawns the run and returns before its
    /// first event (see [`StartOutcome`] for the release gate).
    pub fn start(&self, req: StartRun) -> Result<StartOutcome> {
        let core = &self.core;
        let key = normalize_session_key(Some(&req.session_key))?;
        if req.message.trim().is_empty() {
            return Err(Error::invalid("message must be a non-empty string"));
        }
        let idem = req
            .idempotency_key
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(idem) = idem {
            if let Some(run_id) = core.state.lock().idem.get(&(key.clone(), idem.to_string())) {
                return Ok(existing(run_id.clone()));
            }
            if let Some(row) = core.store.run_by_idempotency(&key, idem)? {
                return Ok(existing(row.run_id));
            }
        }
        let session = core.store.session_get(&key)?;
        let agent = match req.agent_id.as_deref() {
            Some(id) => core.agents.resolve(Some(id))?,
            None => {
                let stored = session.as_ref().and_then(|s| s.agent_id.as_deref());
                match stored.and_then(|id| core.agents.get(id)) {
                    Some(a) => a,
                    None => core.agents.resolve(None)?,
                }
            }
        };
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::internal("run registry used outside a tokio runtime"))?;

        let run_id = uuid::Uuid::new_v4().simple().to_string();
        let cancel = CancellationToken::new();
        let reason = Arc::new(Mutex::new(None));
        let (done_tx, done_rx) = watch::channel(None);
        let started_at = core.clock.now_ms();
        {
            let mut st = core.state.lock();
            if st.shutting_down {
                return Err(Error::unavailable(
                    "gateway is shutting down: no new runs are accepted",
                ));
            }
            if st.paused.contains(&key) {
                return Err(Error::conflict(format!(
                    "session '{key}' is paused: send a control message with action \"resume\" first"
                )));
            }
            if let Some(idem) = idem {
                if let Some(run_id) = st.idem.get(&(key.clone(), idem.to_string())) {
                    return Ok(existing(run_id.clone()));
                }
            }
            let inflight = st.runs.values().filter(|r| r.session_key == key).count();
            if inflight >= core.max_inflight {
                return Err(Error::rate_limited(
                    format!(
                        "session '{key}' already has {inflight} runs in flight \
                         (sessions.max_inflight_per_session = {}): wait for one to finish or abort it",
                        core.max_inflight
                    ),
                    INFLIGHT_RETRY_MS,
                ));
            }
            if let Some(idem) = idem {
                st.idem
                    .insert((key.clone(), idem.to_string()), run_id.clone());
            }
            st.runs.insert(
                run_id.clone(),
                RunEntry {
                    session_key: key.clone(),
                    agent_id: agent.id().to_string(),
                    started_at,
                    cancel: cancel.clone(),
                    reason: reason.clone(),
                    done: done_rx,
                    idempotency_key: idem.map(str::to_string),
                },
            );
        }

        let persisted = (|| -> Result<Vec<(String, String)>> {
            let history = match core.store.messages_page(&key, HISTORY_MESSAGES, None)? {
                Some((rows, _)) => rows.into_iter().map(|m| (m.role, m.text)).collect(),
                None => Vec::new(),
            };
            core.store
                .message_append(&key, "user", &req.message, started_at)?;
            core.store.run_insert(&run_id, &key, idem, started_at)?;
            Ok(history)
        })();
        let history = match persisted {
            Ok(h) => h,
            Err(e) => {
                core.state.lock().remove_run(&run_id);
                return Err(e);
            }
        };

        core.metrics.run_started();
        core.publish_active_sessions();
        let timeout_secs = req
            .timeout_secs
            .filter(|s| *s > 0)
            .unwrap_or(core.default_timeout_secs);
        let ctx = RunCtx {
            run_id: run_id.clone(),
            session_key: key.clone(),
            agent,
            request: AgentRequest {
                run_id: run_id.clone(),
                session_key: key,
                message: req.message,
                history,
                thinking_level: session.map(|s| s.thinking_level).unwrap_or_default(),
                model: None,
            },
            timeout: (timeout_secs > 0).then(|| Duration::from_secs(timeout_secs)),
            timeout_secs,
            cancel,
            reason,
            started: tokio::time::Instant::now(),
            done: done_tx,
        };
        let (gate_tx, gate_rx) = oneshot::channel();
        handle.spawn(drive(self.core.clone(), ctx, gate_rx));
        Ok(StartOutcome {
            run_id,
            existing: false,
            gate: Some(gate_tx),
        })
    }

    /// Aborts the session's runs (only `run_id` when given); returns the ids newly aborted.
    pub fn abort(&self, session_key: &str, run_id: Option<&str>) -> Vec<String> {
        let key = norm(session_key);
        self.core
            .state
            .lock()
            .cancel_where(REASON_ABORTED, |id, r| {
                r.session_key == key && run_id.is_none_or(|want| want == id)
            })
    }

    /// Aborts every run of the session (reason "killed"); returns how many.
    pub fn kill(&self, session_key: &str) -> usize {
        let key = norm(session_key);
        self.core
            .state
            .lock()
            .cancel_where(REASON_KILLED, |_, r| r.session_key == key)
            .len()
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

    pub fn active_runs(&self) -> usize {
        self.core.state.lock().runs.len()
    }

    pub fn has_active(&self, session_key: &str) -> bool {
        let session_key = norm(session_key);
        self.core
            .state
            .lock()
            .runs
            .values()
            .any(|r| r.session_key == session_key)
    }

    /// Sessions with at least one run in flight.
    pub fn active_session_count(&self) -> usize {
        self.core.state.lock().active_session_count()
    }

    /// The runs in flight, oldest first.
    pub fn active_list(&self) -> Vec<ActiveRun> {
        let st = self.core.state.lock();
        let mut rows: Vec<ActiveRun> = st
            .runs
            .iter()
            .map(|(id, r)| ActiveRun {
                run_id: id.clone(),
                session_key: r.session_key.clone(),
                agent_id: r.agent_id.clone(),
                started_at: r.started_at,
            })
            .collect();
        rows.sort_by_key(|r| r.started_at);
        rows
    }

    /// Waits for the run's outcome. `None` for an unknown run (or one that ended too long ago
    /// to be remembered: the last few hundred outcomes are kept).
    pub async fn wait(&self, run_id: &str) -> Option<RunOutcome> {
        let mut rx = {
            let st = self.core.state.lock();
            match st.runs.get(run_id) {
                Some(r) => r.done.clone(),
                None => return st.recent_outcome(run_id),
            }
        };
        let outcome = rx.wait_for(Option::is_some).await.ok()?;
        outcome.clone()
    }

    /// Refuses new runs, waits up to `grace` for runs in flight, then aborts the rest (each
    /// ends `aborted` with "gateway shutting down") and waits briefly for them to record it.
    pub async fn shutdown(&self, grace: Duration) {
        self.core.state.lock().shutting_down = true;
        let deadline = tokio::time::Instant::now() + grace;
        self.wait_idle_until(deadline).await;
        let aborted = self
            .core
            .state
            .lock()
            .cancel_where(REASON_SHUTDOWN, |_, _| true);
        if !aborted.is_empty() {
            tracing::info!(
                count = aborted.len(),
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
}

/// The normalized key (`""` → `main`); an invalid key is used as given (it matches nothing).
fn norm(session_key: &str) -> String {
    normalize_session_key(Some(session_key)).unwrap_or_else(|_| session_key.to_string())
}

fn existing(run_id: String) -> StartOutcome {
    StartOutcome {
        run_id,
        existing: true,
        gate: None,
    }
}
