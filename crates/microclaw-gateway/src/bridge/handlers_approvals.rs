//! Approval methods (openclaw-methods.md §3, scope `operator.approvals`):
//! `exec.approval.list`, `.get`, `.resolve`, `approval.history`, and `runs.active` (the "now
//! running" view, scope read). Thin adapters over `microclaw_engine::ops::approvals`.

use super::methods::{HandlerResult, MethodCtx};
use super::params::Params;
use microclaw_engine::ops::approvals;
use serde_json::Value;

/// `exec.approval.list`: a bare array of pending records.
pub async fn list(ctx: &MethodCtx, _p: &Params<'_>) -> HandlerResult {
    Ok(Value::Array(approvals::list(&ctx.engine).await?).into())
}

pub async fn get(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let id = p.str_required("id")?;
    Ok(approvals::get(&ctx.engine, id).await?.into())
}

/// `exec.approval.resolve {id, decision, reason?}` → `{ok:true, …}`.
pub async fn resolve(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let id = p.str_required("id")?;
    let decision = p.str_required("decision")?;
    let reason = p.str_opt("reason")?;
    Ok(
        approvals::resolve(&ctx.engine, &ctx.principal, id, decision, reason)
            .await?
            .into(),
    )
}

/// `approval.history {cursor?, limit?}` → `{items, nextCursor?}`.
pub async fn history(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let cursor = p.str_opt("cursor")?;
    let limit = p.int_opt("limit", 1, i64::from(approvals::MAX_HISTORY_LIMIT))?;
    Ok(
        approvals::history(&ctx.engine, cursor, limit.map(|l| l as u32))
            .await?
            .into(),
    )
}

/// `runs.active` → `{runs:[{runId, sessionKey, agentId, elapsedMs, tool, waitingForApproval, …}]}`.
pub async fn active(ctx: &MethodCtx, _p: &Params<'_>) -> HandlerResult {
    Ok(approvals::active_runs(&ctx.engine).into())
}
