//! Session methods: `sessions.list`, `chat.history`, `sessions.delete`, the `set*` methods,
//! `sessions.patch` and `sessions.fork`.

use super::errors::BridgeError;
use super::methods::{HandlerResult, MethodCtx, Reply};
use super::params::Params;
use microclaw_engine::ops::sessions::{
    self, ListParams, SettingsParams, MAX_HISTORY_LIMIT, MAX_LIST_LIMIT,
};
use serde_json::json;

pub fn list(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let params = ListParams {
        limit: p
            .int_opt("limit", 1, i64::from(MAX_LIST_LIMIT))?
            .map(|n| n as u32),
        offset: p.int_opt("offset", 0, i64::MAX)?.map(|n| n as u64),
        search: p.str_opt("search")?.map(str::to_string),
    };
    let page = sessions::list(&ctx.engine, params)?;
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Payload<'a> {
        ok: bool,
        sessions: &'a [sessions::SessionView],
        total_count: i64,
        has_more: bool,
    }
    Reply::serialized(&Payload {
        ok: true,
        sessions: &page.sessions,
        total_count: page.total,
        has_more: page.has_more,
    })
}

pub fn chat_history(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p.session_key()?;
    let limit = p
        .int_opt("limit", 1, i64::from(MAX_HISTORY_LIMIT))?
        .map(|n| n as u32);
    let before = p.int_opt("before", 0, i64::MAX)?;
    let page = sessions::history(&ctx.engine, Some(&key), limit, before)?;
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Payload<'a> {
        session_key: &'a str,
        key: &'a str,
        messages: Vec<sessions::MessageView<'a>>,
        has_more: bool,
    }
    Reply::serialized(&Payload {
        session_key: &page.key,
        key: &page.key,
        messages: page
            .messages
            .iter()
            .map(sessions::MessageView::new)
            .collect(),
        has_more: page.has_more,
    })
}

pub fn delete(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p.session_key()?;
    let (key, deleted) = sessions::delete(&ctx.engine, &ctx.principal, Some(&key))?;
    Ok(json!({"ok": true, "deleted": deleted, "key": key, "sessionKey": key}).into())
}

/// `label` or `value`: a string sets it, `null` clears it.
fn label_param(p: &Params<'_>) -> Result<Option<Option<String>>, BridgeError> {
    for k in ["label", "value"] {
        if p.has(k) {
            return Ok(Some(p.str_opt(k)?.map(str::to_string)));
        }
    }
    Ok(None)
}

fn level_param(p: &Params<'_>) -> Result<String, BridgeError> {
    p.str_any(&["level", "value"])?
        .map(str::to_string)
        .ok_or_else(|| p.err("level is required: expected a string in `level` or `value`"))
}

fn apply_settings(ctx: &MethodCtx, p: &Params<'_>, settings: SettingsParams) -> HandlerResult {
    let key = p.session_key()?;
    let row = sessions::patch(&ctx.engine, Some(&key), settings)?;
    Ok(
        json!({"ok": true, "key": row.key, "sessionKey": row.key, "applied": true,
              "settings": sessions::settings_json(&row)})
        .into(),
    )
}

pub fn set_label(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let label = label_param(p)?
        .ok_or_else(|| p.err("label is required: expected a string in `label` or `value`"))?;
    apply_settings(
        ctx,
        p,
        SettingsParams {
            label: Some(label),
            ..Default::default()
        },
    )
}

pub fn set_thinking(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    apply_settings(
        ctx,
        p,
        SettingsParams {
            thinking_level: Some(level_param(p)?),
            ..Default::default()
        },
    )
}

pub fn set_verbose(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    apply_settings(
        ctx,
        p,
        SettingsParams {
            verbose_level: Some(level_param(p)?),
            ..Default::default()
        },
    )
}

pub fn set_reasoning(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    apply_settings(
        ctx,
        p,
        SettingsParams {
            reasoning_level: Some(level_param(p)?),
            ..Default::default()
        },
    )
}

pub fn patch(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p.session_key()?;
    let level =
        |k: &str| -> Result<Option<String>, BridgeError> { Ok(p.str_opt(k)?.map(str::to_string)) };
    let settings = SettingsParams {
        label: if p.has("label") {
            Some(p.str_opt("label")?.map(str::to_string))
        } else {
            None
        },
        thinking_level: level("thinkingLevel")?,
        verbose_level: level("verboseLevel")?,
        reasoning_level: level("reasoningLevel")?,
        agent: if p.has("agentId") {
            Some(p.str_opt("agentId")?.map(str::to_string))
        } else {
            None
        },
    };
    let row = sessions::patch(&ctx.engine, Some(&key), settings)?;
    Ok(
        json!({"ok": true, "key": row.key, "entry": sessions::session_json(&ctx.engine, &row)})
            .into(),
    )
}

pub fn fork(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p.session_key()?;
    let target = p.str_any(&["targetKey", "target_key", "targetSessionKey"])?;
    let fork_point = p.int_opt("forkPoint", 0, i64::MAX)?;
    let result = sessions::fork(&ctx.engine, &ctx.principal, Some(&key), target, fork_point)?;
    let payload = serde_json::to_value(&result)
        .map_err(|e| microclaw_core::Error::internal(e.to_string()))?;
    Ok(payload.into())
}
