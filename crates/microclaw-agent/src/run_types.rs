//! The types the run registry takes and hands out: start requests, outcomes and chat events.

use microclaw_core::{Error, Result};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;
use tokio::sync::oneshot;

/// What a message sent while the session's run is active does (`queueMode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueMode {
    /// Wait in the session's queue (FIFO) and run after the active run (the default).
    #[default]
    Followup,
    /// Abort the active run, then run this message next (ahead of older queued ones).
    Interrupt,
    /// Accepted for OpenClaw compatibility; behaves as `followup`.
    Steer,
    /// Accepted for OpenClaw compatibility; behaves as `followup`.
    Collect,
}

impl QueueMode {
    pub const NAMES: &'static [&'static str] = &["followup", "interrupt", "steer", "collect"];

    /// Parses a `queueMode` value (case-insensitive); INVALID_REQUEST naming the choices.
    pub fn parse(s: &str) -> Result<QueueMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "followup" => Ok(QueueMode::Followup),
            "interrupt" => Ok(QueueMode::Interrupt),
            "steer" => Ok(QueueMode::Steer),
            "collect" => Ok(QueueMode::Collect),
            other => Err(Error::invalid(format!(
                "invalid queueMode '{other}': expected one of {}",
                QueueMode::NAMES.join(", ")
            ))),
        }
    }
}

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
    /// `None` → `followup`.
    pub queue_mode: Option<QueueMode>,
}

/// Whether [`crate::RunRegistry::start`] started the run or queued it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StartStatus {
    /// The run is active (its user message is stored): reply `{runId, status:"started"}`.
    Started,
    /// The message waits behind the session's active run (or for a free slot under
    /// `sessions.max_concurrent_runs`): reply `{runId, status:"accepted"}`.
    Accepted,
}

impl StartStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StartStatus::Started => "started",
            StartStatus::Accepted => "accepted",
        }
    }
}

/// Why a killed or failed run ended (stored as the message's `stop_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StopReason {
    Aborted,
    Error,
    Budget,
    Runaway,
    Timeout,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Aborted => "aborted",
            StopReason::Error => "error",
            StopReason::Budget => "budget",
            StopReason::Runaway => "runaway",
            StopReason::Timeout => "timeout",
        }
    }
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
    /// Started now, or queued (`accepted`). An existing run reports `started` unless it is
    /// still waiting in its queue.
    pub status: StartStatus,
    /// Messages ahead of this one in the session's queue (0 when started).
    pub queue_position: usize,
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
            .field("status", &self.status)
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

/// Deltas carry the cumulative reply only while it is at most this long (bytes).
pub const CUMULATIVE_TEXT_MAX: usize = 64 * 1024;

/// One coalesced delta or the terminal event of a run. Cheap to clone (one per broadcast
/// receiver): the texts are shared `Arc<str>`s, and a delta holds only its merged chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatEvent {
    pub run_id: String,
    pub session_key: String,
    /// Counts the events of one run, from 1.
    pub seq: u32,
    pub state: ChatState,
    /// The chunks merged into this delta (delta events only).
    pub delta: Option<Arc<str>>,
    /// The reply so far: always on terminal events; on deltas only while the reply is at most
    /// [`CUMULATIVE_TEXT_MAX`] bytes.
    pub text: Option<Arc<str>>,
    /// Bytes of the reply so far (whether or not `text` is carried).
    pub text_len: usize,
    /// Why the run ended (`error`; also set on `aborted`: "aborted", "killed", the shutdown reason).
    pub error_message: Option<String>,
    /// Set on `aborted` and `error` terminal events.
    pub stop_reason: Option<StopReason>,
    /// The run's usage (terminal events of runs that ran).
    pub usage: Option<crate::budget_guard::RunUsage>,
}

impl ChatEvent {
    /// The cumulative text when carried, else "".
    pub fn text_str(&self) -> &str {
        self.text.as_deref().unwrap_or("")
    }
}

/// How a finished run ended (returned by [`crate::RunRegistry::wait`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunOutcome {
    pub run_id: String,
    pub session_key: String,
    pub state: ChatState,
    pub text: String,
    pub error_message: Option<String>,
    pub stop_reason: Option<StopReason>,
    /// True when the reply (or the stop record) was appended to the transcript; false when
    /// nothing was written (discarded by delete/reset, or an empty final reply).
    pub persisted: bool,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub latency_ms: u64,
    /// The agent that ran it ("" for a run that never started without an explicit agent).
    pub agent_id: String,
    pub provider: String,
    pub model: String,
    /// The session generation (`sessionId`) the run began in; None when it never began.
    pub session_id: Option<String>,
    /// Registry-clock ms: when the run was placed or began, and when it ended.
    pub started_at: i64,
    pub ended_at: i64,
    /// Tokens and cost (with `estimated`); `None` for a run that never began.
    pub usage: Option<crate::budget_guard::RunUsage>,
}

/// Extras for [`crate::RunRegistry::start_with`] (OpenClaw's `agent` method).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// The run id to use (OpenClaw: the `idempotencyKey`); `None` → a fresh uuid. A run id
    /// already live in the registry answers with that run (`existing`).
    pub run_id: Option<String>,
    /// A thinking level for this run only (else the session's).
    pub thinking: Option<microclaw_core::ThinkingLevel>,
    /// A model override handed to the agent (else the agent's own model).
    pub model: Option<String>,
}

/// Where a run stands, for `agent.wait`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunLookup {
    /// Ended; its snapshot (kept ~10 minutes).
    Finished(std::sync::Arc<RunOutcome>),
    /// Running now.
    Active,
    /// Waiting in its session's queue (or for a global slot).
    Queued,
    /// Never seen, or ended too long ago.
    Unknown,
}

/// A run that is in flight (for listings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveRun {
    pub run_id: String,
    pub session_key: String,
    pub agent_id: String,
    pub started_at: i64,
    /// Tokens counted so far while the reply streams (estimates until the provider reports).
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub tool_calls: u64,
}
