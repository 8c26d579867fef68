//! `incidents.list` / `incidents.get` (read), `incidents.update {id, owner?, note?, status?}`
//! (write; a status change needs admin, decisions.md), `incidents.create {title, severity}`
//! (admin): thin adapters over `microclaw_engine::ops::incidents`.

use super::methods::{HandlerResult, MethodCtx};
use super::params::Params;
use microclaw_core::Scope;
use microclaw_engine::ops::incidents;
use serde_json::{json, Value};

pub async fn list(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let limit = p.int_opt("limit", 1, 500)?;
    Ok(incidents::list(&ctx.engine, p.str_opt("status")?, limit)
        .await?
        .into())
}

pub async fn get(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let id = p.int_required("id", 1, i64::MAX)?;
    Ok(incidents::get(&ctx.engine, id).await?.into())
}

pub async fn create(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let body = Value::Object(p.raw().clone());
    Ok(incidents::create(&ctx.engine, &ctx.principal.actor, &body)
        .await?
        .into())
}

pub async fn update(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let id = p.int_required("id", 1, i64::MAX)?;
    let (owner, note, status) = (
        p.str_opt("owner")?,
        p.str_opt("note")?,
        p.str_opt("status")?,
    );
    if owner.is_none() && note.is_none() && status.is_none() {
        return Err(p.err("expected at least one of owner, note, status"));
    }
    if status.is_some() {
        ctx.principal.require(Scope::Admin)?;
    }
    let actor = &ctx.principal.actor;
    if let Some(o) = owner {
        incidents::set_owner(&ctx.engine, actor, id, Some(o)).await?;
    }
    if let Some(n) = note {
        incidents::add_note(&ctx.engine, actor, id, Some(n)).await?;
    }
    if let Some(s) = status {
        incidents::set_status(&ctx.engine, actor, id, Some(s)).await?;
    }
    let mut v = incidents::get(&ctx.engine, id).await?;
    v["ok"] = json!(true);
    Ok(v.into())
}
