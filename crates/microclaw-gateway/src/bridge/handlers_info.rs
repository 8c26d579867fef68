//! Read-only methods: `health`, `status`, `ping`, `agents.list`, `models.list`, `config.get`,
//! `node.list`.

use super::methods::{HandlerResult, MethodCtx};
use super::params::Params;
use microclaw_engine::ops;
use serde_json::json;

pub fn health(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(ops::status::health(&ctx.engine)?.into())
}

pub fn status(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(ops::status::status(&ctx.engine)?.into())
}

pub fn ping(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(json!({"ts": ctx.engine.now_ms()}).into())
}

pub fn agents_list(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(ops::agents::agents_list(&ctx.engine).into())
}

pub fn models_list(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(ops::agents::models_list(&ctx.engine).into())
}

pub fn config_get(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(ops::config::get_redacted(&ctx.engine).into())
}

pub fn node_list(ctx: &MethodCtx, _: &Params<'_>) -> HandlerResult {
    Ok(json!({"ts": ctx.engine.now_ms(), "nodes": []}).into())
}
