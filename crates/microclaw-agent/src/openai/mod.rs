//! The OpenAI-compatible chat-completions agent: streaming SSE, usage, and tool calling with
//! the engine's read-only tools. The API key is read from the named environment variable at
//! call time and never stored or logged.

mod http;
mod sse;
mod stream;
mod tools;
mod wire;

pub use sse::{SseDecoder, SseLine};
pub use tools::{
    builtin_tool_specs, run_tool, run_tool_in, ToolCallCtx, ToolProvider, ToolResult, ToolSpec,
};
pub use wire::reasoning_effort;

use crate::agent::{estimate_tokens, Agent, AgentRequest, AgentUsage, BoxFuture};
use crate::chunk_stream::{send_chunk, StreamEnd};
use crate::run_agent_events::ToolEvent;
use http::{post_with_retries, Endpoint};
use microclaw_core::config::AgentBackendConfig;
use microclaw_core::{Error, Result};
use microclaw_metrics::Metrics;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Tool-call rounds allowed in one run before the run fails.
pub const MAX_TOOL_ROUNDS: usize = 4;

struct Inner {
    id: String,
    name: String,
    model: String,
    url: String,
    api_key_env: Option<String>,
    timeout: Duration,
    max_retries: u32,
    tool_timeout: Duration,
    client: reqwest::Client,
    tools: Option<Arc<dyn ToolProvider>>,
    metrics: Option<Arc<Metrics>>,
}

/// An agent backed by an OpenAI-compatible `/chat/completions` endpoint.
pub struct OpenAiAgent {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for OpenAiAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiAgent")
            .field("id", &self.inner.id)
            .field("model", &self.inner.model)
            .field("url", &self.inner.url)
            .field("api_key_env", &self.inner.api_key_env)
            .finish_non_exhaustive()
    }
}

/// `<base_url>/chat/completions` (kept as is when the base already ends with it).
pub fn completions_url(base_url: &str) -> String {
    let base = base_url.trim().trim_end_matches('/');
    if base.ends_with("/chat/completions") {
        base.to_string()
    } else {
        format!("{base}/chat/completions")
    }
}

impl OpenAiAgent {
    pub fn new(
        id: &str,
        cfg: &AgentBackendConfig,
        tools: Option<Arc<dyn ToolProvider>>,
        metrics: Option<Arc<Metrics>>,
    ) -> Result<OpenAiAgent> {
        let url = completions_url(&cfg.base_url);
        let parsed = reqwest::Url::parse(&url).map_err(|e| {
            Error::invalid(format!("config agents.{id}.base_url '{}' is not a URL ({e}): expected e.g. http://127.0.0.1:11434/v1", cfg.base_url))
        })?;
        if parsed.scheme() != "http" && parsed.scheme() != "https" {
            return Err(Error::invalid(format!(
                "config agents.{id}.base_url must start with http:// or https://"
            )));
        }
        if cfg.model.trim().is_empty() {
            return Err(Error::invalid(format!(
                "config agents.{id}.model is empty: expected a model name"
            )));
        }
        let timeout = Duration::from_millis(cfg.request_timeout_ms.max(1));
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| {
                Error::internal(format!(
                    "could not build the HTTP client for agent {id}: {e}"
                ))
            })?;
        let inner = Inner {
            id: id.to_string(),
            name: cfg
                .name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| id.to_string()),
            model: cfg.model.trim().to_string(),
            url,
            api_key_env: cfg.api_key_env.clone().filter(|n| !n.trim().is_empty()),
            timeout,
            max_retries: cfg.max_retries.min(10),
            tool_timeout: Duration::from_millis(cfg.tool_timeout_ms.max(1)),
            client,
            tools,
            metrics,
        };
        Ok(OpenAiAgent {
            inner: Arc::new(inner),
        })
    }
}

impl Inner {
    /// The key read from the environment now (`Ok(None)` when no variable is configured);
    /// an error when the configured variable is not set.
    fn api_key(&self) -> std::result::Result<Option<String>, String> {
        let Some(var) = &self.api_key_env else {
            return Ok(None);
        };
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Some(v.trim().to_string())),
            _ => Err(format!(
                "environment variable {var} is not set: set it to the API key of agent '{}' and retry",
                self.id
            )),
        }
    }

    async fn converse(
        &self,
        req: AgentRequest,
        out: mpsc::Sender<String>,
        cancel: CancellationToken,
    ) -> std::result::Result<AgentUsage, String> {
        let model = req
            .model
            .clone()
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| self.model.clone());
        let offered = self
            .tools
            .as_ref()
            .map(|t| t.specs_for(&self.id))
            .unwrap_or_default();
        let mut messages = wire::initial_messages(&req.history, &req.message);
        let mut usage = AgentUsage {
            reported: true,
            ..AgentUsage::default()
        };
        for round in 0..=MAX_TOOL_ROUNDS {
            let body = wire::request_body(&model, &messages, &offered, req.thinking_level);
            let ep = Endpoint {
                client: &self.client,
                url: &self.url,
                api_key: self.api_key()?,
                timeout: self.timeout,
                max_retries: self.max_retries,
            };
            let resp = post_with_retries(&ep, &body, &cancel).await?;
            let turn = stream::read_turn(resp, &out, &cancel, self.timeout).await?;
            let (input, output) = match turn.usage {
                Some(u) => (u.prompt_tokens, u.completion_tokens),
                None => {
                    usage.reported = false;
                    (
                        estimate_tokens(&body["messages"].to_string()),
                        estimate_tokens(&turn.content),
                    )
                }
            };
            usage.input_tokens += input;
            usage.output_tokens += output;
            if turn.tool_calls.is_empty() {
                return Ok(usage);
            }
            if round == MAX_TOOL_ROUNDS {
                break;
            }
            let Some(provider) = self.tools.as_deref() else {
                return Err(
                    "the model asked for a tool, but no tools are available to this agent".into(),
                );
            };
            messages.push(wire::assistant_tool_message(
                &turn.content,
                &turn.tool_calls,
            ));
            for call in &turn.tool_calls {
                if let Some(ev) = &req.tool_events {
                    ev.send(ToolEvent::Start {
                        name: call.name.clone(),
                        tool_call_id: call.id.clone(),
                        args: serde_json::from_str(&call.arguments)
                            .unwrap_or_else(|_| serde_json::Value::String(call.arguments.clone())),
                    });
                }
                let ctx = ToolCallCtx {
                    run_id: req.run_id.clone(),
                    session_key: req.session_key.clone(),
                    agent_id: self.id.clone(),
                    tool_call_id: call.id.clone(),
                    cancel: cancel.clone(),
                };
                let res = run_tool_in(
                    &ctx,
                    provider,
                    &offered,
                    self.metrics.as_deref(),
                    &call.name,
                    &call.arguments,
                    self.tool_timeout,
                )
                .await;
                usage.tool_calls += 1;
                usage.tool_errors += u64::from(!res.ok);
                if let Some(ev) = &req.tool_events {
                    ev.send(ToolEvent::Result {
                        name: call.name.clone(),
                        tool_call_id: call.id.clone(),
                        is_error: !res.ok,
                        result: serde_json::from_str(&res.content)
                            .unwrap_or_else(|_| serde_json::Value::String(res.content.clone())),
                    });
                }
                if send_chunk(&out, res.transcript, &cancel).await != StreamEnd::Done {
                    return Err("cancelled".into());
                }
                messages.push(wire::tool_result_message(&call.id, &res.content));
            }
        }
        Err(format!(
            "the model kept calling tools after {MAX_TOOL_ROUNDS} rounds: giving up"
        ))
    }
}

impl Agent for OpenAiAgent {
    fn id(&self) -> &str {
        &self.inner.id
    }
    fn model(&self) -> &str {
        &self.inner.model
    }
    fn name(&self) -> &str {
        &self.inner.name
    }
    fn provider(&self) -> &str {
        "openai-compatible"
    }
    fn status(&self) -> String {
        match self.inner.api_key() {
            Ok(_) => "ready".into(),
            Err(msg) => format!("unavailable: {msg}"),
        }
    }
    fn run(
        &self,
        req: AgentRequest,
        out: mpsc::Sender<String>,
        cancel: CancellationToken,
    ) -> BoxFuture<'static, std::result::Result<AgentUsage, String>> {
        let inner = self.inner.clone();
        Box::pin(async move { inner.converse(req, out, cancel).await })
    }
}
