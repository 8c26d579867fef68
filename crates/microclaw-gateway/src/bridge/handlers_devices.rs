//! Device methods (openclaw-methods.md §7.2, scope `operator.pairing`): `device.pair.list`,
//! `.approve`, `.reject`, `.remove`, `.rename`, `device.token.revoke`, `.rotate`. Thin adapters
//! over `microclaw_engine::ops::devices`.

use super::devices_connected;
use super::methods::{HandlerResult, MethodCtx};
use super::params::Params;
use microclaw_engine::ops::devices;

pub async fn list(ctx: &MethodCtx, _p: &Params<'_>) -> HandlerResult {
    let engine = &ctx.engine;
    let v = devices::list(engine, |id| devices_connected::is_connected(engine, id)).await?;
    Ok(v.into())
}

pub async fn approve(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let req = p.str_required("requestId")?;
    Ok(devices::approve(&ctx.engine, &ctx.principal, req)
        .await?
        .into())
}

pub async fn reject(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let req = p.str_required("requestId")?;
    Ok(devices::reject(&ctx.engine, &ctx.principal, req)
        .await?
        .into())
}

pub async fn remove(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let id = p.str_required("deviceId")?;
    Ok(devices::remove(&ctx.engine, &ctx.principal, id)
        .await?
        .into())
}

pub async fn rename(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let id = p.str_required("deviceId")?;
    let label = p.str_opt("label")?.unwrap_or("");
    Ok(devices::rename(&ctx.engine, &ctx.principal, id, label)
        .await?
        .into())
}

pub async fn token_revoke(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let id = p.str_required("deviceId")?;
    let role = p.str_opt("role")?;
    Ok(devices::token_revoke(&ctx.engine, &ctx.principal, id, role)
        .await?
        .into())
}

pub async fn token_rotate(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let id = p.str_required("deviceId")?;
    let role = p.str_opt("role")?;
    Ok(devices::token_rotate(&ctx.engine, id, role).await?.into())
}
