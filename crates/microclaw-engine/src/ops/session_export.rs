//! Session export (issue 17): a whole transcript as Markdown or JSON, read in pages of
//! [`EXPORT_PAGE_MESSAGES`] so a large session never sits in memory at once.
//!
//! [`ExportStream`] yields the document in chunks (`GET /api/sessions/export` streams them);
//! [`page`] and the render functions serve `sessions.export`, which sends a bounded page per
//! call. The export covers the messages present when it starts; a reset or delete while it
//! runs ends it early (Markdown says so; JSON carries `"complete": false`).

use crate::engine::Engine;
use crate::ops::sessions::SessionView;
use microclaw_core::{normalize_session_key, Error, Result};
use microclaw_metrics::export::time_fmt::iso_utc;
use microclaw_store::{MessageRow, SessionRow};
use serde::Serialize;

/// Messages read per store page.
pub const EXPORT_PAGE_MESSAGES: u32 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Markdown,
    Json,
}

impl ExportFormat {
    /// `md` (also `markdown`; the default when absent) or `json`.
    pub fn parse(s: Option<&str>) -> Result<ExportFormat> {
        match s.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("md") | Some("markdown") => Ok(ExportFormat::Markdown),
            Some("json") => Ok(ExportFormat::Json),
            Some(other) => Err(Error::invalid(format!(
                "format = '{other}': expected md or json"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Markdown => "md",
            ExportFormat::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Markdown => "text/markdown; charset=utf-8",
            ExportFormat::Json => "application/json",
        }
    }
}

/// One message in the JSON export (flat: the text is a string, not content blocks).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportMessage<'a> {
    pub id: i64,
    pub role: &'a str,
    pub text: &'a str,
    pub timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<&'a str>,
}

impl<'a> ExportMessage<'a> {
    pub fn new(m: &'a MessageRow) -> Self {
        ExportMessage {
            id: m.id,
            role: &m.role,
            text: &m.text,
            timestamp: m.created_at,
            stop_reason: m.stop_reason.as_deref(),
            error_message: m.error_message.as_deref(),
        }
    }
}

/// A label or key on one line (a heading cannot span lines).
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The Markdown heading block: title, key, label, times, lineage, message count.
pub fn markdown_head(s: &SessionRow) -> String {
    let title = one_line(s.label.as_deref().unwrap_or(&s.key));
    let mut out = format!("# {title}\n\n- Session key: `{}`\n", one_line(&s.key));
    if let Some(label) = &s.label {
        out.push_str(&format!("- Label: {}\n", one_line(label)));
    }
    out.push_str(&format!(
        "- Created: {}\n- Updated: {}\n- Messages: {}\n",
        iso_utc(s.created_at),
        iso_utc(s.updated_at),
        s.message_count
    ));
    if let Some(parent) = &s.parent_key {
        let at = s
            .fork_point
            .map(|p| format!(" at message {p}"))
            .unwrap_or_default();
        out.push_str(&format!("- Forked from: `{}`{at}\n", one_line(parent)));
    }
    out.push('\n');
    out
}

/// One message: a `##` line with role and time, a marker for a killed or failed run, the text.
pub fn markdown_message(m: &MessageRow) -> String {
    let mut out = format!("## {} · {}\n\n", m.role, iso_utc(m.created_at));
    if let Some(reason) = &m.stop_reason {
        let what = if reason == "aborted" {
            "Run stopped"
        } else {
            "Run failed"
        };
        out.push_str(&format!("> **{what}** (stopReason: `{reason}`)"));
        if let Some(err) = &m.error_message {
            out.push_str(&format!(": {}", one_line(err)));
        }
        out.push_str("\n\n");
    }
    out.push_str(&m.text);
    out.push_str("\n\n");
    out
}

const MD_ENDED_EARLY: &str =
    "> *Export ended early: the session was reset or deleted while it was being exported.*\n";

/// The session (NOT_FOUND when unknown), up to `limit` messages with id > `after` (oldest
/// first), and whether more follow.
pub async fn page(
    engine: &Engine,
    key: Option<&str>,
    after: i64,
    limit: u32,
) -> Result<(SessionRow, Vec<MessageRow>, bool)> {
    let key = normalize_session_key(key)?;
    let k = key.clone();
    engine
        .store()
        .read_async(move |s| {
            let Some((row, newest)) = s.export_head(&k)? else {
                return Err(Error::not_found(format!("session '{k}' not found")));
            };
            let gen = row.session_id.clone();
            let mut messages = s
                .export_page(&k, &gen, after, newest, limit.saturating_add(1))?
                .unwrap_or_default();
            let more = messages.len() > limit as usize;
            messages.truncate(limit as usize);
            Ok((row, messages, more))
        })
        .await
}

enum Stage {
    Head,
    Body,
    Done,
}

/// A whole export, chunk by chunk: the head, one chunk per page of messages, the tail.
pub struct ExportStream {
    pub format: ExportFormat,
    pub session: SessionRow,
    newest: i64,
    after: i64,
    wrote_message: bool,
    stage: Stage,
}

/// Starts an export; NOT_FOUND for an unknown session, INVALID_REQUEST for a bad format.
pub async fn open(
    engine: &Engine,
    key: Option<&str>,
    format: Option<&str>,
) -> Result<ExportStream> {
    let format = ExportFormat::parse(format)?;
    let key = normalize_session_key(key)?;
    let k = key.clone();
    let head = engine
        .store()
        .read_async(move |s| s.export_head(&k))
        .await?;
    let Some((session, newest)) = head else {
        return Err(Error::not_found(format!("session '{key}' not found")));
    };
    Ok(ExportStream {
        format,
        session,
        newest,
        after: 0,
        wrote_message: false,
        stage: Stage::Head,
    })
}

impl ExportStream {
    /// `<key>.md` / `<key>.json`, with anything but `[A-Za-z0-9._-]` replaced by `_`.
    pub fn file_name(&self) -> String {
        let safe: String = self
            .session
            .key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{safe}.{}", self.format.as_str())
    }

    /// The next piece of the document; None once it is complete.
    pub async fn next_chunk(&mut self, engine: &Engine) -> Result<Option<String>> {
        match self.stage {
            Stage::Done => Ok(None),
            Stage::Head => {
                self.stage = Stage::Body;
                Ok(Some(self.head(engine)))
            }
            Stage::Body => {
                let (k, gen) = (self.session.key.clone(), self.session.session_id.clone());
                let (after, upto) = (self.after, self.newest);
                let page = engine
                    .store()
                    .read_async(move |s| s.export_page(&k, &gen, after, upto, EXPORT_PAGE_MESSAGES))
                    .await?;
                match page {
                    Some(rows) if !rows.is_empty() => {
                        self.after = rows.last().map_or(self.after, |m| m.id);
                        Ok(Some(self.render(&rows)?))
                    }
                    // Finished (empty page) or cut short by a reset/delete (None).
                    done => {
                        self.stage = Stage::Done;
                        Ok(Some(self.tail(done.is_some())))
                    }
                }
            }
        }
    }

    fn head(&self, engine: &Engine) -> String {
        match self.format {
            ExportFormat::Markdown => markdown_head(&self.session),
            ExportFormat::Json => {
                let view = SessionView::new(engine, self.session.clone());
                let session = serde_json::to_string(&view).unwrap_or_else(|_| "null".into());
                format!("{{\"ok\":true,\"format\":\"json\",\"session\":{session},\"messages\":[")
            }
        }
    }

    fn render(&mut self, rows: &[MessageRow]) -> Result<String> {
        let mut out = String::new();
        for m in rows {
            match self.format {
                ExportFormat::Markdown => out.push_str(&markdown_message(m)),
                ExportFormat::Json => {
                    if self.wrote_message {
                        out.push(',');
                    }
                    let json = serde_json::to_string(&ExportMessage::new(m)).map_err(|e| {
                        Error::internal(format!("cannot encode message {}: {e}", m.id))
                    })?;
                    out.push_str(&json);
                }
            }
            self.wrote_message = true;
        }
        Ok(out)
    }

    fn tail(&self, complete: bool) -> String {
        match (self.format, complete) {
            (ExportFormat::Markdown, true) => String::new(),
            (ExportFormat::Markdown, false) => MD_ENDED_EARLY.to_string(),
            (ExportFormat::Json, c) => format!("],\"complete\":{c}}}"),
        }
    }
}
