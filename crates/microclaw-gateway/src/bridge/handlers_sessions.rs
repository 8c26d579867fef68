//! Session methods: `sessions.list`, `chat.history`, `sessions.delete`, the `set*` methods,
//! `sessions.patch` and `sessions.fork`.

use super::chat_events::cut_to_fit;
use super::errors::BridgeError;
use super::frames::Proto;

/// Room left in a frame for the envelope and the other fields of a history reply (at most a
/// quarter of the frame).
const HISTORY_HEADROOM_BYTES: usize = 4096;
use super::methods::{HandlerResult, MethodCtx, Reply};
use super::params::Params;
use microclaw_core::ErrorCode;
use microclaw_engine::ops::sessions::{
    self, ListParams, SettingsParams, MAX_HISTORY_LIMIT, MAX_LIST_LIMIT,
};
use serde_json::json;

/// The page `sessions.list` params select (shared with `sessions.subscribe`'s snapshot).
pub async fn list_page(
    ctx: &MethodCtx,
    p: &Params<'_>,
) -> Result<sessions::SessionsPage, BridgeError> {
    let params = ListParams {
        limit: p
            .int_opt("limit", 1, i64::from(MAX_LIST_LIMIT))?
            .map(|n| n as u32),
        offset: p.int_opt("offset", 0, i64::MAX)?.map(|n| n as u64),
        search: p.str_opt("search")?.map(str::to_string),
    };
    Ok(sessions::list(&ctx.engine, params).await?)
}

/// `sessions.list`'s payload, serialized straight from the rows.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPayload<'a> {
    ok: bool,
    sessions: &'a [sessions::SessionView],
    total_count: i64,
    has_more: bool,
}

impl<'a> ListPayload<'a> {
    pub fn of(page: &'a sessions::SessionsPage) -> Self {
        ListPayload {
            ok: true,
            sessions: &page.sessions,
            total_count: page.total,
            has_more: page.has_more,
        }
    }
}

/// A repeated page comes from the read cache (see `cached_reads`).
pub async fn list(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    super::cached_reads::cached(ctx, "sessions.list", "", p, || async {
        let page = list_page(ctx, p).await?;
        Reply::serialized(&ListPayload::of(&page))
    })
    .await
}

/// A repeated read comes from the read cache (the frame limit is part of its key).
pub async fn chat_history(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let max = ctx.engine.config().server.max_payload_bytes.to_string();
    super::cached_reads::cached(ctx, "chat.history", &max, p, || chat_history_read(ctx, p)).await
}

async fn chat_history_read(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p.session_key()?;
    let limit = p
        .int_opt("limit", 1, i64::from(MAX_HISTORY_LIMIT))?
        .map(|n| n as u32);
    let before = p.int_opt("before", 0, i64::MAX)?;
    let page = match sessions::history(&ctx.engine, Some(&key), limit, before).await {
        // OpenClaw answers an unknown session with an empty history, and its clients expect
        // that; MicroClaw (protocol 3) said NOT_FOUND.
        Err(e) if e.code == ErrorCode::NotFound && ctx.proto == Proto::V4 => {
            sessions::HistoryPage {
                key: key.clone(),
                session_id: None,
                messages: Vec::new(),
                has_more: false,
            }
        }
        other => other?,
    };
    let max = ctx.engine.config().server.max_payload_bytes;
    let text_budget = max.saturating_sub(HISTORY_HEADROOM_BYTES.min(max / 4));
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Payload<'a> {
        session_key: &'a str,
        key: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        session_id: Option<&'a str>,
        messages: Vec<sessions::MessageView<'a>>,
        has_more: bool,
    }
    Reply::serialized(&Payload {
        session_key: &page.key,
        key: &page.key,
        session_id: page.session_id.as_deref(),
        // A message larger than one frame is carried cut, with the truncation marker.
        messages: page
            .messages
            .iter()
            .map(|m| sessions::MessageView::with_text(m, cut_to_fit(&m.text, text_budget)))
            .collect(),
        has_more: page.has_more,
    })
}

pub async fn delete(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p.session_key()?;
    let (key, deleted) = sessions::delete(&ctx.engine, &ctx.principal, Some(&key)).await?;
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

async fn apply_settings(
    ctx: &MethodCtx,
    p: &Params<'_>,
    settings: SettingsParams,
) -> HandlerResult {
    let key = p.session_key()?;
    let row = sessions::patch(&ctx.engine, Some(&key), settings).await?;
    Ok(
        json!({"ok": true, "key": row.key, "sessionKey": row.key, "applied": true,
              "settings": sessions::settings_json(&row)})
        .into(),
    )
}

pub async fn set_label(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
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
    .await
}

pub async fn set_thinking(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    apply_settings(
        ctx,
        p,
        SettingsParams {
            thinking_level: Some(level_param(p)?),
            ..Default::default()
        },
    )
    .await
}

pub async fn set_verbose(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    apply_settings(
        ctx,
        p,
        SettingsParams {
            verbose_level: Some(level_param(p)?),
            ..Default::default()
        },
    )
    .await
}

pub async fn set_reasoning(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    apply_settings(
        ctx,
        p,
        SettingsParams {
            reasoning_level: Some(level_param(p)?),
            ..Default::default()
        },
    )
    .await
}

pub async fn patch(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
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
    let row = sessions::patch(&ctx.engine, Some(&key), settings).await?;
    Ok(
        json!({"ok": true, "key": row.key, "entry": sessions::session_json(&ctx.engine, &row)})
            .into(),
    )
}

pub async fn fork(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p.session_key()?;
    let target = p.str_any(&["targetKey", "target_key", "targetSessionKey"])?;
    let fork_point = p.int_opt("forkPoint", 0, i64::MAX)?;
    let result =
        sessions::fork(&ctx.engine, &ctx.principal, Some(&key), target, fork_point).await?;
    let payload = serde_json::to_value(&result)
        .map_err(|e| microclaw_core::Error::internal(e.to_string()))?;
    Ok(payload.into())
}
