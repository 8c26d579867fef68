//! Tools an LLM agent may call. The engine implements [`ToolProvider`] (the agent crate does
//! not depend on the engine): the read-only operator tools and, where an agent's config enables
//! them, the acting tools behind an approval gate. This module runs one call (gate first, then
//! the call with a timeout), records it in the metrics and turns the result into what the
//! model and the transcript see.

use crate::agent::BoxFuture;
use microclaw_metrics::Metrics;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A tool as offered to the model (`parameters` is a JSON schema).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

/// Who is calling a tool: the run it belongs to. `cancel` fires when the run is killed, so a
/// provider waiting on an operator can stop waiting and settle its approval.
#[derive(Debug, Clone)]
pub struct ToolCallCtx {
    pub run_id: String,
    pub session_key: String,
    pub agent_id: String,
    pub tool_call_id: String,
    pub cancel: CancellationToken,
}

/// Runs tools for LLM agents.
pub trait ToolProvider: Send + Sync {
    /// The tools offered to the model; the built-in read-only set by default.
    fn specs(&self) -> Vec<ToolSpec> {
        builtin_tool_specs()
    }
    /// The tools offered to one agent (its config may enable acting tools).
    fn specs_for(&self, _agent_id: &str) -> Vec<ToolSpec> {
        self.specs()
    }
    /// Runs one tool; `Err` is a message the model will see.
    fn call(&self, name: &str, args: Value) -> BoxFuture<'static, Result<Value, String>>;
    /// Runs one tool knowing its run (acting tools need the session's workspace).
    fn call_in(
        &self,
        _ctx: &ToolCallCtx,
        name: &str,
        args: Value,
    ) -> BoxFuture<'static, Result<Value, String>> {
        self.call(name, args)
    }
    /// The gate before a call (an operator's approval). Not under the tool timeout: it may
    /// wait as long as the approval lives. `Err` is what the model sees instead of a result.
    fn authorize(
        &self,
        _ctx: &ToolCallCtx,
        _name: &str,
        _args: &Value,
    ) -> BoxFuture<'static, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
    /// This tool's own time limit, when it differs from the agent's `tool_timeout_ms`.
    fn timeout_for(&self, _name: &str) -> Option<Duration> {
        None
    }
}

/// `sessions_list`, `session_history`, `metrics_summary`, `self_check`.
pub fn builtin_tool_specs() -> Vec<ToolSpec> {
    let spec = |name: &str, description: &str, parameters: Value| ToolSpec {
        name: name.to_string(),
        description: description.to_string(),
        parameters,
    };
    vec![
        spec(
            "sessions_list",
            "List chat sessions, newest first.",
            json!({"type": "object", "properties": {
                "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                "search": {"type": "string", "description": "substring of key or label"}}}),
        ),
        spec(
            "session_history",
            "Read the most recent messages of one session.",
            json!({"type": "object", "required": ["sessionKey"], "properties": {
                "sessionKey": {"type": "string"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 100}}}),
        ),
        spec(
            "metrics_summary",
            "SLO summary: success rate, latency p95, tool reliability, firing alerts.",
            json!({"type": "object", "properties": {}}),
        ),
        spec(
            "self_check",
            "Run the gateway self-check and report its risk level and findings.",
            json!({"type": "object", "properties": {}}),
        ),
    ]
}

/// Tool results longer than this are cut before the model sees them.
const MAX_RESULT_CHARS: usize = 16_000;

/// What one tool call produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// The `tool` message content for the model (the result JSON or `{"error": …}`).
    pub content: String,
    /// The transcript line, e.g. `[tool sessions_list ok]`.
    pub transcript: String,
    pub ok: bool,
}

/// Runs one call: unknown tool → policy block; bad JSON arguments, failure or timeout → an
/// error the model sees. Each call is recorded once in the metrics.
pub async fn run_tool(
    provider: &dyn ToolProvider,
    offered: &[ToolSpec],
    metrics: Option<&Metrics>,
    name: &str,
    arguments: &str,
    timeout: Duration,
    cancel: &CancellationToken,
) -> ToolResult {
    let ctx = ToolCallCtx {
        run_id: String::new(),
        session_key: String::new(),
        agent_id: String::new(),
        tool_call_id: String::new(),
        cancel: cancel.clone(),
    };
    run_tool_in(&ctx, provider, offered, metrics, name, arguments, timeout).await
}

/// [`run_tool`] for a known run: the provider's gate ([`ToolProvider::authorize`]) runs
/// first, without the time limit; then the call, under the tool's limit.
pub async fn run_tool_in(
    ctx: &ToolCallCtx,
    provider: &dyn ToolProvider,
    offered: &[ToolSpec],
    metrics: Option<&Metrics>,
    name: &str,
    arguments: &str,
    timeout: Duration,
) -> ToolResult {
    let cancel = &ctx.cancel;
    let (result, policy_blocked) = if !offered.iter().any(|t| t.name == name) {
        let allowed: Vec<&str> = offered.iter().map(|t| t.name.as_str()).collect();
        (
            Err(format!(
                "tool '{name}' is not available: allowed tools are [{}]",
                allowed.join(", ")
            )),
            true,
        )
    } else {
        let timeout = provider.timeout_for(name).unwrap_or(timeout);
        (
            call_tool(ctx, provider, name, arguments, timeout, cancel).await,
            false,
        )
    };
    if let Some(m) = metrics {
        m.record_tool(result.is_ok(), policy_blocked);
    }
    match result {
        Ok(v) => {
            let mut content = v.to_string();
            if content.chars().count() > MAX_RESULT_CHARS {
                content =
                    content.chars().take(MAX_RESULT_CHARS).collect::<String>() + "…(truncated)";
            }
            ToolResult {
                content,
                transcript: format!("[tool {name} ok]\n"),
                ok: true,
            }
        }
        Err(msg) => ToolResult {
            content: json!({ "error": msg }).to_string(),
            transcript: format!("[tool {name} error: {msg}]\n"),
            ok: false,
        },
    }
}

async fn call_tool(
    ctx: &ToolCallCtx,
    provider: &dyn ToolProvider,
    name: &str,
    arguments: &str,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<Value, String> {
    let args: Value = if arguments.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(arguments).map_err(|e| {
            format!("invalid arguments for tool '{name}': {e}; expected a JSON object")
        })?
    };
    if !args.is_object() {
        return Err(format!(
            "invalid arguments for tool '{name}': expected a JSON object"
        ));
    }
    // The gate watches `ctx.cancel` itself (it settles its approval when the run dies).
    provider.authorize(ctx, name, &args).await?;
    if cancel.is_cancelled() {
        return Err("cancelled".to_string());
    }
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err("cancelled".to_string()),
        r = tokio::time::timeout(timeout, provider.call_in(ctx, name, args)) => match r {
            Ok(res) => res,
            Err(_) => Err(format!("tool '{name}' timed out after {} ms", timeout.as_millis())),
        },
    }
}
