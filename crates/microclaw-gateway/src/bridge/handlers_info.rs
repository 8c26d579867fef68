//! Read-only methods: `health`, `status`, `ping`, `agents.list`, `models.list`, `config.get`,
//! `node.list`, `system-presence`.

use super::methods::{HandlerResult, MethodCtx, Reply};
use super::params::Params;
use microclaw_engine::ops;
use serde_json::json;

/// The engine's counters as text, serialized at most once per millisecond (no JSON tree).
pub async fn health(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(Reply::raw(ops::status::health_raw(&ctx.engine)))
}

/// Live counters around the cached summary parts (rebuilt only after a change).
pub async fn status(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(Reply::raw(ops::status::status_raw(&ctx.engine).await?))
}

pub async fn ping(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(json!({"ts": ctx.engine.now_ms()}).into())
}

pub async fn agents_list(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(ops::agents::agents_list(&ctx.engine).into())
}

pub async fn models_list(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(ops::agents::models_list(&ctx.engine).into())
}

pub async fn config_get(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(ops::config::get_redacted(&ctx.engine).into())
}

pub async fn node_list(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(json!({"ts": ctx.engine.now_ms(), "nodes": []}).into())
}

/// OpenClaw's `system-presence`: the connected clients as a bare array, newest first — the
/// whole list (up to `limit`, default 200), where hello-ok and `presence` events carry only the
/// newest few.
pub async fn system_presence(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let limit = p.int_opt("limit", 1, ops::presence::MAX_LIMIT)?;
    Reply::serialized(&ops::presence::list(&ctx.engine, limit)?.presence)
}
