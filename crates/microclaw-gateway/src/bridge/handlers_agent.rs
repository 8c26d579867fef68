//! OpenClaw's `agent` (an accepted ack, then a second `res` frame with the same id carrying
//! the final result) and `agent.wait`. Shapes and edge cases: `microclaw_engine::ops::agent_run`.

use super::chat_events::{cut_to_fit, PAYLOAD_HEADROOM};
use super::errors::BridgeError;
use super::methods::{self, HandlerResult, MethodCtx, Reply};
use super::params::Params;
use microclaw_core::Scope;
use microclaw_engine::ops::agent_run::{self, AgentParams, AgentStart};
use serde_json::Value;
use std::borrow::Cow;

/// Longest `timeout` accepted (seconds; one day).
const MAX_TIMEOUT_SECONDS: i64 = 86_400;
/// Longest `agent.wait` (a larger `timeoutMs` waits this long).
const MAX_WAIT_MS: u64 = 24 * 3600 * 1000;

pub async fn agent(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let message = p.str_required("message")?;
    // OpenClaw's dynamic rule: the session-reset commands need admin.
    if agent_run::needs_admin(message) && !ctx.principal.scopes.allows(Scope::Admin) {
        return Err(BridgeError::MissingScope(Scope::Admin));
    }
    let params = AgentParams {
        message,
        idempotency_key: p.str_required("idempotencyKey")?,
        session_key: p.str_any(&["sessionKey", "key", "session_key"])?,
        agent_id: p.str_opt("agentId")?,
        timeout_secs: p
            .int_opt("timeout", 0, MAX_TIMEOUT_SECONDS)?
            .map(|s| s as u64),
        thinking: p.str_opt("thinking")?,
        label: p.str_opt("label")?,
        provider: p.str_opt("provider")?,
        model: p.str_opt("model")?,
    };
    let max_payload = ctx.engine.config().server.max_payload_bytes;
    match agent_run::start(&ctx.engine, &ctx.principal, &params).await? {
        AgentStart::Done(payload) => Ok(fit_final(payload, max_payload).into()),
        AgentStart::Accepted { ack, outcome } => {
            let (engine, run_id) = (ctx.engine.clone(), outcome.run_id.clone());
            methods::send_later(Box::pin(async move {
                fit_final(agent_run::final_of_run(&engine, &run_id).await, max_payload)
            }));
            let mut reply: Reply = ack.into();
            reply.gate = Some(outcome);
            Ok(reply)
        }
    }
}

/// The final's reply text cut (with the truncation marker) so the frame fits `maxPayload`.
fn fit_final(mut v: Value, max_payload: usize) -> Value {
    let budget = max_payload.saturating_sub(PAYLOAD_HEADROOM);
    if let Some(Value::String(text)) = v.pointer_mut("/result/payloads/0/text") {
        if let Cow::Owned(cut) = cut_to_fit(text, budget) {
            *text = cut;
        }
    }
    v
}

pub async fn agent_wait(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let run_id = p.str_required("runId")?.trim();
    let timeout_ms = p
        .int_opt("timeoutMs", 0, i64::MAX)?
        .map_or(agent_run::DEFAULT_WAIT_MS, |n| n as u64)
        .min(MAX_WAIT_MS);
    Ok(agent_run::wait(&ctx.engine, run_id, timeout_ms)
        .await
        .into())
}
