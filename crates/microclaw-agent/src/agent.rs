//! The agent trait and the request/usage types that cross it.
//!
//! An agent streams its reply as text chunks on an mpsc sender and returns its usage (or an
//! error message) when done. The trait is object-safe: agents live in an [`crate::AgentSet`] as
//! `Arc<dyn Agent>` and are driven by the [`crate::RunRegistry`].

use microclaw_core::ThinkingLevel;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A boxed, sendable future (what object-safe async trait methods return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One turn handed to an agent.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRequest {
    pub run_id: String,
    pub session_key: String,
    /// The user's message for this turn.
    pub message: String,
    /// Recent context, oldest first, excluding `message`: `(role, text)` with role
    /// `"user"` or `"assistant"`.
    pub history: Vec<(String, String)>,
    pub thinking_level: ThinkingLevel,
    /// A model override (e.g. from `sessions.spawn`); `None` = the agent's own model.
    pub model: Option<String>,
    /// Where an agent reports its tool calls (the run's `agent` tool stream); `None` = nobody.
    pub tool_events: Option<crate::run_agent_events::ToolEvents>,
}

/// What a finished agent turn consumed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Tool calls made during the turn (each already recorded in the metrics).
    pub tool_calls: u64,
    pub tool_errors: u64,
    /// True when the token counts are the provider's own (`usage`) for every model call of
    /// the turn; false when any of them is an estimate (characters / 4).
    pub reported: bool,
}

/// A chat agent.
pub trait Agent: Send + Sync {
    /// Stable id used in config, `agents.list` and `StartRun::agent_id`.
    fn id(&self) -> &str;
    /// The model this agent talks to.
    fn model(&self) -> &str;
    /// Human-readable name for `agents.list` / `models.list`.
    fn name(&self) -> &str {
        self.id()
    }
    /// Who serves the model (`models.list` `provider`).
    fn provider(&self) -> &str {
        "unknown"
    }
    /// `"ready"`, or a short reason why a run would fail now (e.g. a missing API key).
    fn status(&self) -> String {
        "ready".to_string()
    }
    /// Streams the reply: send chunks on `out`; return usage or an error message.
    /// Must stop promptly when `cancel` fires.
    fn run(
        &self,
        req: AgentRequest,
        out: mpsc::Sender<String>,
        cancel: CancellationToken,
    ) -> BoxFuture<'static, Result<AgentUsage, String>>;
}

/// Rough token estimate used where a provider reports none: one token per 4 characters.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_estimate_rounds_up_per_four_chars() {
        assert_eq!(estimate_tokens(""), 0, "no text costs no tokens");
        assert_eq!(
            estimate_tokens("abc"),
            1,
            "a partial group of 4 counts as one token"
        );
        assert_eq!(estimate_tokens("abcdefghi"), 3);
    }
}
