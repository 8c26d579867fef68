//! `usage.cost`, `sessions.usage` (not advertised), `budgets.get` and `budgets.set` (admin):
//! adapters over `ops::usage` and `ops::budgets`.

use super::methods::{HandlerResult, MethodCtx};
use super::params::Params;
use microclaw_engine::ops::{budgets, usage};
use serde_json::Value;

pub async fn cost(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let days = usage::parse_days(p.value("days")).map_err(|e| p.err(e.message))?;
    Ok(usage::usage_cost(&ctx.engine, days).await?.into())
}

pub async fn sessions_usage(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p.session_key()?;
    Ok(usage::sessions_usage(&ctx.engine, &key).await?.into())
}

pub async fn get(ctx: &MethodCtx, _p: &Params<'_>) -> HandlerResult {
    Ok(budgets::budgets_get(&ctx.engine).await?.into())
}

/// The params are the flat patch (`{"daily_tokens": 100000, "per_run_tokens": null, …}`).
pub async fn set(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let patch = Value::Object(p.raw().clone());
    Ok(budgets::budgets_set(&ctx.engine, &ctx.principal, &patch)
        .await?
        .into())
}
