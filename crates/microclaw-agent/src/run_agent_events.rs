//! A run's OpenClaw `agent` event stream, beside its `chat` events: `lifecycle` (start, then
//! end or error), `assistant` (the same coalesced chunks as the chat deltas) and `tool`
//! (start/result of an LLM agent's tool calls). Each run numbers its agent events from 1.
//! The registry hands every event to one sink (the engine fans it out to the transports).

use crate::run_types::{ChatState, StopReason};
use serde_json::Value;
use std::sync::Arc;

/// Receives every agent event of every run.
pub type AgentEventSink = Arc<dyn Fn(Arc<AgentEvent>) + Send + Sync>;

/// One `agent` event.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentEvent {
    pub run_id: String,
    pub session_key: String,
    /// The session generation the run began in (None for a run that never began).
    pub session_id: Option<String>,
    pub agent_id: String,
    /// Counts this run's agent events, from 1 (independent of the chat `seq`).
    pub seq: u32,
    /// Registry-clock ms when emitted.
    pub ts: i64,
    pub data: AgentEventData,
}

/// The stream-specific part of an [`AgentEvent`].
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEventData {
    /// `lifecycle` phase `start`.
    Start { started_at: i64 },
    /// `lifecycle` phase `end` (final, aborted) or `error` (failed, timed out).
    End {
        started_at: Option<i64>,
        ended_at: i64,
        state: ChatState,
        error: Option<String>,
        stop_reason: Option<StopReason>,
    },
    /// `assistant`: `delta` is the new chunk; `text` the reply so far while ≤ 64 KiB.
    Assistant {
        text: Option<Arc<str>>,
        delta: Arc<str>,
    },
    /// `tool` phase `start`.
    ToolStart {
        name: String,
        tool_call_id: String,
        args: Value,
    },
    /// `tool` phase `result`.
    ToolResult {
        name: String,
        tool_call_id: String,
        is_error: bool,
        result: Value,
    },
}

impl AgentEventData {
    /// The OpenClaw stream name.
    pub fn stream(&self) -> &'static str {
        match self {
            AgentEventData::Start { .. } | AgentEventData::End { .. } => "lifecycle",
            AgentEventData::Assistant { .. } => "assistant",
            AgentEventData::ToolStart { .. } | AgentEventData::ToolResult { .. } => "tool",
        }
    }

    /// `assistant` events may be dropped for a lagging connection (like chat deltas);
    /// lifecycle and tool events never.
    pub fn droppable(&self) -> bool {
        matches!(self, AgentEventData::Assistant { .. })
    }
}

/// What the agent reports about its tool calls while it runs (sent to the run task, which
/// numbers them into the run's agent stream).
#[derive(Debug, Clone, PartialEq)]
pub enum ToolEvent {
    Start {
        name: String,
        tool_call_id: String,
        args: Value,
    },
    Result {
        name: String,
        tool_call_id: String,
        is_error: bool,
        result: Value,
    },
}

/// The sending side of a run's tool events (in [`crate::AgentRequest`]); equal to any other
/// (it is plumbing, not part of the request's meaning).
#[derive(Debug, Clone)]
pub struct ToolEvents(pub(crate) tokio::sync::mpsc::UnboundedSender<ToolEvent>);

impl PartialEq for ToolEvents {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl ToolEvents {
    /// A sender and its receiver (the registry makes one per run; tests may too).
    pub fn channel() -> (ToolEvents, tokio::sync::mpsc::UnboundedReceiver<ToolEvent>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (ToolEvents(tx), rx)
    }

    /// Reports one tool event (nobody listening is fine).
    pub fn send(&self, ev: ToolEvent) {
        let _ = self.0.send(ev);
    }
}

impl From<ToolEvent> for AgentEventData {
    fn from(ev: ToolEvent) -> Self {
        match ev {
            ToolEvent::Start {
                name,
                tool_call_id,
                args,
            } => AgentEventData::ToolStart {
                name,
                tool_call_id,
                args,
            },
            ToolEvent::Result {
                name,
                tool_call_id,
                is_error,
                result,
            } => AgentEventData::ToolResult {
                name,
                tool_call_id,
                is_error,
                result,
            },
        }
    }
}

/// Numbers one run's agent events and hands them to the sink.
pub(crate) struct AgentStream {
    pub(crate) run_id: String,
    pub(crate) session_key: String,
    pub(crate) session_id: Option<String>,
    pub(crate) agent_id: String,
    pub(crate) seq: u32,
}

impl AgentStream {
    pub(crate) fn emit(&mut self, sink: Option<&AgentEventSink>, ts: i64, data: AgentEventData) {
        self.seq += 1;
        let Some(sink) = sink else {
            return;
        };
        sink(Arc::new(AgentEvent {
            run_id: self.run_id.clone(),
            session_key: self.session_key.clone(),
            session_id: self.session_id.clone(),
            agent_id: self.agent_id.clone(),
            seq: self.seq,
            ts,
            data,
        }));
    }
}
