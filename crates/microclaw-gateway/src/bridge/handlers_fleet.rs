//! Fleet methods (operations.md §5): `gateways.list` / `gateways.history` (read),
//! `gateways.add` / `.update` / `.remove` / `.probe` (admin), `gateways.call` (read for a read
//! method, admin for anything else). Thin adapters over `microclaw_engine::ops::fleet`.

use super::errors::BridgeError;
use super::methods::{lookup, HandlerResult, MethodCtx};
use super::params::Params;
use microclaw_core::Scope;
use microclaw_engine::ops::fleet;
use microclaw_engine::Principal;
use serde_json::Value;

/// The scope a forwarded call needs: read for a method our table lists as read, else admin.
pub fn forward_scope(method: &str) -> Scope {
    match lookup(method).and_then(|m| m.scope) {
        Some(Scope::Read) => Scope::Read,
        _ => Scope::Admin,
    }
}

/// Fails unless `who` may forward `method`.
pub fn check_forward(who: &Principal, method: &str) -> Result<(), microclaw_core::Error> {
    who.require(forward_scope(method))
}

fn id(p: &Params<'_>) -> Result<i64, BridgeError> {
    p.int_required("id", 1, i64::MAX)
}

pub async fn list(ctx: &MethodCtx, _p: &Params<'_>) -> HandlerResult {
    Ok(fleet::list(&ctx.engine).await?.into())
}

pub async fn history(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let limit = p.int_opt("limit", 1, fleet::HISTORY_MAX as i64)?;
    Ok(fleet::history(&ctx.engine, id(p)?, limit).await?.into())
}

pub async fn add(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let name = p.str_required("name")?;
    let url = p.str_required("url")?;
    let token = p.str_required("token")?;
    let kind = p.str_opt("kind")?;
    Ok(
        fleet::add(&ctx.engine, &ctx.principal, name, url, token, kind)
            .await?
            .into(),
    )
}

pub async fn update(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let (name, url) = (p.str_opt("name")?, p.str_opt("url")?);
    let (token, kind) = (p.str_opt("token")?, p.str_opt("kind")?);
    Ok(
        fleet::update(&ctx.engine, &ctx.principal, id(p)?, name, url, token, kind)
            .await?
            .into(),
    )
}

pub async fn remove(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    Ok(fleet::remove(&ctx.engine, &ctx.principal, id(p)?)
        .await?
        .into())
}

pub async fn probe(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    Ok(fleet::probe(&ctx.engine, id(p)?).await?.into())
}

pub async fn call(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let method = p.str_required("method")?;
    check_forward(&ctx.principal, method)?;
    let params = p
        .value("params")
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    Ok(fleet::call(&ctx.engine, id(p)?, method, params)
        .await?
        .into())
}
