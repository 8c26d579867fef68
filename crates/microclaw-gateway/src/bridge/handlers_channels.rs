//! `channels.status` in OpenClaw's shape. The console has no messaging channels (its
//! sessions are operator chats), so the summary is OpenClaw's empty one: Mission Control's
//! Channels panel shows "no channels" instead of failing on an unknown method.

use super::methods::{HandlerResult, MethodCtx};
use super::params::{kind, Params};
use serde_json::{json, Value};

/// Longest `timeoutMs` accepted (OpenClaw's probe timeout; nothing is probed here).
const MAX_TIMEOUT_MS: i64 = 600_000;

/// `{ts, channelOrder, channelLabels, channelDetailLabels, channelSystemImages, channelMeta,
/// channels, channelAccounts, channelDefaultAccountId}`, all empty. Params `probe?` (bool)
/// and `timeoutMs?` are checked and change nothing.
pub async fn status(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    match p.value("probe") {
        None | Some(Value::Null) | Some(Value::Bool(_)) => {}
        Some(other) => return Err(p.err(format!("probe must be a boolean, got {}", kind(other)))),
    }
    p.int_opt("timeoutMs", 0, MAX_TIMEOUT_MS)?;
    Ok(json!({
        "ts": ctx.engine.now_ms(),
        "channelOrder": [],
        "channelLabels": {},
        "channelDetailLabels": {},
        "channelSystemImages": {},
        "channelMeta": [],
        "channels": {},
        "channelAccounts": {},
        "channelDefaultAccountId": {},
    })
    .into())
}
