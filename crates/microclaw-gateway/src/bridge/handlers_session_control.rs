//! OpenClaw's session methods: `sessions.subscribe`, `sessions.reset`, `sessions.abort`
//! (its own result shape, beside MicroClaw's `sessions.kill`) and `chat.inject`.

use super::handlers_sessions;
use super::methods::{HandlerResult, MethodCtx};
use super::params::Params;
use microclaw_engine::ops::{session_control, sessions};
use serde_json::json;

/// Accepted with OpenClaw's result: `{subscribed:true}`, plus a `list` snapshot when list
/// params were given. `sessions.changed` already reaches every read connection
/// (decisions.md), so subscribing changes nothing else.
pub async fn subscribe(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    if p.is_empty() {
        return Ok(json!({"subscribed": true}).into());
    }
    let page = handlers_sessions::list_page(ctx, p).await?;
    let list = serde_json::to_value(handlers_sessions::ListPayload::of(&page))
        .map_err(|e| microclaw_core::Error::internal(format!("cannot encode the list: {e}")))?;
    Ok(json!({"subscribed": true, "list": list}).into())
}

/// A new generation: transcript empty, settings and lineage kept, a new `sessionId`.
pub async fn reset(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p
        .str_any(&["key", "sessionKey", "session_key"])?
        .filter(|k| !k.trim().is_empty())
        .ok_or_else(|| p.err("key is required: expected the session key to reset"))?;
    let expected = p.str_opt("expectedSessionId")?;
    let (key, row) = sessions::reset_row(&ctx.engine, &ctx.principal, Some(key), expected).await?;
    let Some(row) = row else {
        return Err(p.err(format!("unknown session: {key}")));
    };
    let agent = ctx
        .engine
        .runs()
        .agents()
        .resolve(row.agent_id.as_deref())?;
    let mut entry = sessions::session_json(&ctx.engine, &row);
    entry["sessionId"] = json!(row.session_id);
    Ok(json!({"ok": true, "key": key, "entry": entry,
              "resolved": {"modelProvider": agent.provider(), "model": agent.model()}})
    .into())
}

pub async fn abort(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p.str_any(&["key", "sessionKey", "session_key"])?;
    let run_id = p.str_opt("runId")?;
    let result = session_control::abort(&ctx.engine, key, run_id)?;
    let v = serde_json::to_value(result)
        .map_err(|e| microclaw_core::Error::internal(format!("cannot encode: {e}")))?;
    Ok(v.into())
}

pub async fn inject(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p.session_key()?;
    let message = p.str_required("message")?;
    let id = session_control::inject(&ctx.engine, Some(&key), message).await?;
    Ok(json!({"ok": true, "messageId": id.to_string()}).into())
}
