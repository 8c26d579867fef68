//! `cron.*` and `cron.dlq.*`: thin adapters over `microclaw_engine::ops::cron` (which reads the
//! params object itself, so HTTP and the bridge share one parser).

use super::methods::{HandlerResult, MethodCtx};
use super::params::Params;
use microclaw_engine::ops::cron;

pub async fn list(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    Ok(cron::list(&ctx.engine, p.raw()).await?.into())
}
pub async fn get(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    Ok(cron::get(&ctx.engine, p.raw()).await?.into())
}
pub async fn status(ctx: &MethodCtx, _p: &Params<'_>) -> HandlerResult {
    Ok(cron::status(&ctx.engine).await?.into())
}
pub async fn add(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    Ok(cron::add(&ctx.engine, p.raw()).await?.into())
}
pub async fn update(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    Ok(cron::update(&ctx.engine, p.raw()).await?.into())
}
pub async fn remove(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    Ok(cron::remove(&ctx.engine, p.raw()).await?.into())
}
pub async fn run(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    Ok(cron::run(&ctx.engine, p.raw()).await?.into())
}
pub async fn runs(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    Ok(cron::runs(&ctx.engine, p.raw()).await?.into())
}
pub async fn preview(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    Ok(cron::preview(&ctx.engine, p.raw())?.into())
}
pub async fn dlq_list(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    Ok(cron::dlq_list(&ctx.engine, p.raw()).await?.into())
}
pub async fn dlq_replay(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    Ok(cron::dlq_replay(&ctx.engine, p.raw()).await?.into())
}
pub async fn dlq_discard(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    Ok(
        cron::dlq_discard(&ctx.engine, &ctx.principal.actor, p.raw())
            .await?
            .into(),
    )
}
