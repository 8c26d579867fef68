//! The types the run registry takes and hands out: start requests, outcomes and chat events.

use serde::Serialize;
use std::fmt;
use tokio::sync::oneshot;

/// A request to start one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartRun {
    pub session_key: String,
    pub message: String,
    /// Same key for the same session → the first run's id, nothing new started.
    pub idempotency_key: Option<String>,
    /// `None` or `Some(0)` → `sessions.run_timeout_seconds`.
    pub timeout_secs: Option<u64>,
    /// An agent id or a model name; `None` → the session's agent, else the default agent.
    pub agent_id: Option<String>,
}

/// The result of [`crate::RunRegistry::start`].
///
/// **Release gate**: a newly started run emits no event until this outcome is released,
/// either by [`StartOutcome::release`] or by dropping it. A transport that must send its
/// response before the run's first `chat` event keeps the outcome alive until the response is
/// queued, then drops it. Callers that do not care simply drop it at once. Do not hold it
/// while waiting for the run ([`crate::RunRegistry::wait`]): a held outcome is released
/// anyway after `RELEASE_TIMEOUT` (2 s), with a warning in the log.
pub struct StartOutcome {
    pub run_id: String,
    /// True when an earlier run with the same idempotency key was found (nothing started).
    pub existing: bool,
    pub(crate) gate: Option<oneshot::Sender<()>>,
}

impl StartOutcome {
    /// Lets the run start emitting events (idempotent; dropping the outcome does the same).
    pub fn release(&mut self) {
        if let Some(g) = self.gate.take() {
            let _ = g.send(());
        }
    }
}

impl Drop for StartOutcome {
    fn drop(&mut self) {
        self.release();
    }
}

impl fmt::Debug for StartOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartOutcome")
            .field("run_id", &self.run_id)
            .field("existing", &self.existing)
            .field("released", &self.gate.is_none())
            .finish()
    }
}

/// The state a chat event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatState {
    Delta,
    Final,
    Error,
    Aborted,
}

impl ChatState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatState::Delta => "delta",
            ChatState::Final => "final",
            ChatState::Error => "error",
            ChatState::Aborted => "aborted",
        }
    }
    pub fn is_terminal(self) -> bool {
        self != ChatState::Delta
    }
}

/// One streamed chunk or the terminal event of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatEvent {
    pub run_id: String,
    pub session_key: String,
    /// Counts the events of one run, from 1.
    pub seq: u32,
    pub state: ChatState,
    /// This chunk (delta events only).
    pub delta: Option<String>,
    /// The reply so far (the whole reply on terminal events).
    pub text: String,
    /// Why the run ended (`error`; also set on `aborted`: "aborted", "killed", the shutdown reason).
    pub error_message: Option<String>,
}

/// How a finished run ended (returned by [`crate::RunRegistry::wait`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunOutcome {
    pub run_id: String,
    pub session_key: String,
    pub state: ChatState,
    pub text: String,
    pub error_message: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub latency_ms: u64,
}

/// A run that is in flight (for listings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveRun {
    pub run_id: String,
    pub session_key: String,
    pub agent_id: String,
    pub started_at: i64,
}
