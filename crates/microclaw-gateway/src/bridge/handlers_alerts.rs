//! `alerts.list` (read), `freeze.get` (read) and `freeze.set` (admin): thin adapters over
//! `microclaw_engine::ops::{alerts, freeze}`.

use super::methods::{HandlerResult, MethodCtx};
use super::params::Params;
use microclaw_engine::ops::{alerts, freeze};
use serde_json::Value;

pub async fn list(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let limit = p.int_opt("limit", 1, 1000)?;
    let since = p.int_opt("since", 0, i64::MAX)?;
    Ok(alerts::list(
        &ctx.engine,
        p.str_opt("state")?,
        since,
        p.str_opt("rule")?,
        limit,
    )
    .await?
    .into())
}

pub async fn freeze_get(ctx: &MethodCtx, _p: &Params<'_>) -> HandlerResult {
    Ok(freeze::get(&ctx.engine).await?.into())
}

pub async fn freeze_set(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let body = Value::Object(p.raw().clone());
    Ok(freeze::set(&ctx.engine, &ctx.principal.actor, &body)
        .await?
        .into())
}
