//! `sessions.list` and `chat.history` replies served from the engine's read cache
//! (`microclaw_engine::ops::read_cache`): the serialized payload is kept per store revision
//! and engine state version, so a repeated read costs a lookup and a copy, not a SQLite
//! query and a serialization. Errors are never kept.

use super::methods::{HandlerResult, MethodCtx, Reply};
use super::params::Params;
use std::future::Future;

/// The cache key: method, protocol, what else the reply depends on, and the params object
/// (serialized with sorted keys, so equal params give equal keys).
pub fn cache_key(method: &str, ctx: &MethodCtx, extra: &str, p: &Params<'_>) -> String {
    let params = serde_json::to_string(p.raw()).unwrap_or_default();
    format!("{method}|{}|{extra}|{params}", ctx.proto.number())
}

/// The kept reply for this request, or `build`'s (kept when it is serialized and nothing
/// changed while it was read).
pub async fn cached<F, Fut>(
    ctx: &MethodCtx,
    method: &str,
    extra: &str,
    p: &Params<'_>,
    build: F,
) -> HandlerResult
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = HandlerResult>,
{
    let key = cache_key(method, ctx, extra, p);
    let cache = ctx.engine.read_cache();
    if let Some(raw) = cache.get(&ctx.engine, &key) {
        return Ok(Reply::raw(raw));
    }
    let stamp = cache.revision_now(&ctx.engine);
    let reply = build().await?;
    if let Some(raw) = &reply.raw {
        cache.put(&ctx.engine, stamp, key, raw);
    }
    Ok(reply)
}
