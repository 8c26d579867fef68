//! `sessions.export {sessionKey, format?: "md"|"json", afterId?, limit?}`: one bounded page
//! of a session's export (`ops::session_export`). A page holds up to `limit` messages (default
//! 200) and fits one frame; `nextAfterId` (null at the end) continues it. Markdown pages are
//! text to append (`content`; the heading comes with the first page), JSON pages carry the
//! session row and `messages`. `GET /api/sessions/export` streams the whole file instead.

use super::chat_events::cut_to_fit;
use super::methods::{HandlerResult, MethodCtx, Reply};
use super::params::Params;
use microclaw_engine::ops::session_export::{
    self, markdown_head, markdown_message, ExportFormat, ExportMessage,
};
use microclaw_engine::ops::sessions::SessionView;
use microclaw_store::MessageRow;
use std::borrow::Cow;

pub const DEFAULT_EXPORT_PAGE: u32 = 200;
pub const MAX_EXPORT_PAGE: u32 = 1000;
/// Room left in a frame for the envelope, the session row and the other fields.
const EXPORT_HEADROOM_BYTES: usize = 8192;

/// Bytes `s` takes as a JSON string body (escapes included).
fn json_len(s: &str) -> usize {
    serde_json::to_string(s).map_or(s.len() * 6, |j| j.len())
}

pub async fn export(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p.session_key()?;
    let format = ExportFormat::parse(p.str_opt("format")?)?;
    let after = p.int_opt("afterId", 0, i64::MAX)?.unwrap_or(0);
    let limit = p
        .int_opt("limit", 1, i64::from(MAX_EXPORT_PAGE))?
        .map_or(DEFAULT_EXPORT_PAGE, |n| n as u32);
    let (session, rows, more) = session_export::page(&ctx.engine, Some(&key), after, limit).await?;
    let max = ctx.engine.config().server.max_payload_bytes;
    let budget = max.saturating_sub(EXPORT_HEADROOM_BYTES.min(max / 4));
    let head = (after == 0 && format == ExportFormat::Markdown).then(|| markdown_head(&session));
    let mut used = head.as_deref().map_or(0, json_len);
    // Messages that fit the frame; the first one always goes (cut to fit when alone too big).
    let mut taken: Vec<(&MessageRow, Cow<'_, str>)> = Vec::new();
    for m in &rows {
        let size = match format {
            ExportFormat::Markdown => json_len(&markdown_message(m)),
            ExportFormat::Json => serde_json::to_string(&ExportMessage::new(m))
                .map_or(m.text.len() * 6, |j| j.len() + 1),
        };
        if used + size > budget {
            if taken.is_empty() {
                taken.push((m, cut_to_fit(&m.text, budget.saturating_sub(used + 512))));
            }
            break;
        }
        used += size;
        taken.push((m, Cow::Borrowed(&m.text)));
    }
    let next_after_id = match taken.last() {
        Some((last, _)) if more || taken.len() < rows.len() => Some(last.id),
        _ => None,
    };
    let messages: Vec<MessageRow> = taken
        .iter()
        .map(|(m, text)| MessageRow {
            text: text.to_string(),
            ..(*m).clone()
        })
        .collect();
    let base = |extra: serde_json::Value| {
        let mut v = serde_json::json!({
            "ok": true,
            "sessionKey": session.key,
            "format": format.as_str(),
            "nextAfterId": next_after_id,
        });
        if let (Some(obj), serde_json::Value::Object(more)) = (v.as_object_mut(), extra) {
            obj.extend(more);
        }
        v
    };
    let payload = match format {
        ExportFormat::Markdown => {
            let mut content = head.unwrap_or_default();
            for m in &messages {
                content.push_str(&markdown_message(m));
            }
            base(serde_json::json!({"content": content}))
        }
        ExportFormat::Json => {
            let msgs: Vec<ExportMessage<'_>> = messages.iter().map(ExportMessage::new).collect();
            base(serde_json::json!({
                "session": SessionView::new(&ctx.engine, session.clone()),
                "messages": msgs,
            }))
        }
    };
    Ok(Reply::from(payload))
}
