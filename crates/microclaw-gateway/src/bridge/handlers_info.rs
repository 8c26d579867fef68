//! Read-only methods: `health`, `status`, `ping`, `agents.list`, `models.list`, `config.get`,
//! `node.list`.

use super::methods::{HandlerResult, MethodCtx};
use super::params::Params;
use microclaw_engine::ops;
use serde_json::json;

pub async fn health(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(ops::status::health(&ctx.engine)?.into())
}

pub async fn status(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(ops::status::status(&ctx.engine).await?.into())
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
