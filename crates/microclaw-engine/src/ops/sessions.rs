//! Session operations: list, history, tree, fork, delete, reset, settings.

use crate::audit::{self, kind};
use crate::engine::Engine;
use crate::events::EngineEvent;
use crate::principal::Principal;
use microclaw_core::{
    normalize_session_key, Error, ReasoningLevel, Result, ThinkingLevel, VerboseLevel,
};
use microclaw_store::{ListQuery, MessageRow, SessionPatch, SessionRow, TreeNode};
use serde::Serialize;
use serde_json::{json, Value};

pub const MAX_LIST_LIMIT: u32 = 10_000;
pub const MAX_HISTORY_LIMIT: u32 = 1000;
pub const MAX_TREE_LIMIT: u32 = 100_000;

/// A session row as both transports show it (camelCase, like the bridge's `sessions.list`).
/// Serialized straight to JSON (no intermediate maps: lists of thousands stay cheap).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub key: String,
    pub session_key: String,
    pub label: Option<String>,
    pub parent_key: Option<String>,
    pub fork_point: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_message_preview: Option<String>,
    pub message_count: i64,
    pub thinking_level: &'static str,
    pub verbose_level: &'static str,
    pub reasoning_level: &'static str,
    pub agent_id: Option<String>,
    pub has_active_run: bool,
    /// A `search` hit in message text: plain text around the match (issue 17).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_snippet: Option<String>,
}

impl SessionView {
    pub fn new(engine: &Engine, r: SessionRow) -> SessionView {
        SessionView {
            has_active_run: engine.runs().has_active(&r.key),
            session_key: r.key.clone(),
            key: r.key,
            label: r.label,
            parent_key: r.parent_key,
            fork_point: r.fork_point,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_message_preview: r.last_message_preview,
            message_count: r.message_count,
            thinking_level: r.thinking_level.as_str(),
            verbose_level: r.verbose_level.as_str(),
            reasoning_level: r.reasoning_level.as_str(),
            agent_id: r.agent_id,
            search_snippet: r.search_snippet,
        }
    }
}

/// A session row as a JSON value (single rows: `sessions.patch`, settings).
pub fn session_json(engine: &Engine, r: &SessionRow) -> Value {
    serde_json::to_value(SessionView::new(engine, r.clone())).unwrap_or(Value::Null)
}

/// The settings block returned by the set* methods.
pub fn settings_json(r: &SessionRow) -> Value {
    json!({"label": r.label, "thinkingLevel": r.thinking_level.as_str(),
           "verboseLevel": r.verbose_level.as_str(), "reasoningLevel": r.reasoning_level.as_str()})
}

#[derive(Debug, Default, Clone)]
pub struct ListParams {
    pub limit: Option<u32>,
    pub offset: Option<u64>,
    pub search: Option<String>,
}

pub struct SessionsPage {
    pub sessions: Vec<SessionView>,
    pub total: i64,
    pub has_more: bool,
}

pub async fn list(engine: &Engine, p: ListParams) -> Result<SessionsPage> {
    let limit = p.limit.unwrap_or(50);
    if limit == 0 || limit > MAX_LIST_LIMIT {
        return Err(Error::invalid(format!(
            "limit = {limit}: expected 1..{MAX_LIST_LIMIT}"
        )));
    }
    let offset = p.offset.unwrap_or(0);
    let search = p
        .search
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let query = ListQuery {
        limit,
        offset,
        search,
    };
    let (rows, total) = engine
        .store()
        .read_async(move |s| s.sessions_list(&query))
        .await?;
    let has_more = (offset + rows.len() as u64) < total as u64;
    Ok(SessionsPage {
        sessions: rows
            .into_iter()
            .map(|r| SessionView::new(engine, r))
            .collect(),
        total,
        has_more,
    })
}

pub struct HistoryPage {
    pub key: String,
    /// The session's current generation (reset replaces it); None for an unknown session.
    pub session_id: Option<String>,
    pub messages: Vec<MessageRow>,
    pub has_more: bool,
}

/// Messages oldest first; an unknown session is NOT_FOUND (and nothing is created).
pub async fn history(
    engine: &Engine,
    key: Option<&str>,
    limit: Option<u32>,
    before: Option<i64>,
) -> Result<HistoryPage> {
    let key = normalize_session_key(key)?;
    let limit = limit.unwrap_or(200);
    if limit == 0 || limit > MAX_HISTORY_LIMIT {
        return Err(Error::invalid(format!(
            "limit = {limit}: expected 1..{MAX_HISTORY_LIMIT}"
        )));
    }
    let page_key = key.clone();
    let (page, session_id) = engine
        .store()
        .read_async(move |s| {
            let page = s.messages_page(&page_key, limit, before)?;
            let id = match page {
                Some(_) => s.session_get(&page_key)?.map(|r| r.session_id),
                None => None,
            };
            Ok((page, id))
        })
        .await?;
    match page {
        Some((messages, has_more)) => Ok(HistoryPage {
            key,
            session_id,
            messages,
            has_more,
        }),
        None => Err(Error::not_found(format!("session '{key}' not found"))),
    }
}

/// A message in the bridge's content-block form. A killed or failed run's message carries
/// `stopReason` and `errorMessage` (decisions.md).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView<'a> {
    pub id: i64,
    pub role: &'a str,
    pub content: [TextBlock<'a>; 1],
    pub timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TextBlock<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: std::borrow::Cow<'a, str>,
}

impl<'a> MessageView<'a> {
    /// `text` is the message text as the transport may carry it (e.g. cut to its frame limit).
    pub fn with_text(m: &'a MessageRow, text: std::borrow::Cow<'a, str>) -> Self {
        MessageView {
            id: m.id,
            role: &m.role,
            content: [TextBlock { kind: "text", text }],
            timestamp: m.created_at,
            stop_reason: m.stop_reason.as_deref(),
            error_message: m.error_message.as_deref(),
        }
    }

    pub fn new(m: &'a MessageRow) -> Self {
        Self::with_text(m, std::borrow::Cow::Borrowed(&m.text))
    }
}

pub async fn tree(
    engine: &Engine,
    root: Option<&str>,
    limit: Option<u32>,
) -> Result<Vec<TreeNode>> {
    let limit = limit.unwrap_or(1000);
    if limit == 0 || limit > MAX_TREE_LIMIT {
        return Err(Error::invalid(format!(
            "limit = {limit}: expected 1..{MAX_TREE_LIMIT}"
        )));
    }
    let root = match root.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Some(normalize_session_key(Some(r))?),
        None => None,
    };
    engine
        .store()
        .read_async(move |s| s.sessions_tree(root.as_deref(), limit))
        .await
}

pub fn tree_node_json(n: &TreeNode) -> Value {
    json!({"session_key": n.key, "parent_session_key": n.parent_key, "fork_point": n.fork_point,
           "label": n.label, "created_at": n.created_at, "updated_at": n.updated_at,
           "message_count": n.message_count})
}

#[derive(Debug, Clone, Serialize)]
pub struct ForkResult {
    pub ok: bool,
    pub source_session_key: String,
    pub target_session_key: String,
    pub fork_point: i64,
}

pub async fn fork(
    engine: &Engine,
    who: &Principal,
    source: Option<&str>,
    target: Option<&str>,
    fork_point: Option<i64>,
) -> Result<ForkResult> {
    let source = normalize_session_key(source)?;
    let target = match target.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => normalize_session_key(Some(t))?,
        None => format!(
            "{}-fork-{}",
            fork_root(&source),
            &crate::auth::random_hex(4)
        ),
    };
    if source == target {
        return Err(Error::invalid(
            "source and target session keys are the same: expected a new target key",
        ));
    }
    if let Some(fp) = fork_point {
        if fp < 0 {
            return Err(Error::invalid(format!(
                "fork_point = {fp}: expected 0 or more"
            )));
        }
    }
    let now = engine.now_ms();
    let (src, dst) = (source.clone(), target.clone());
    let row = engine
        .store()
        .write_async(move |s| s.session_fork(&src, &dst, fork_point, now))
        .await?;
    let fork_point = row.fork_point.unwrap_or(row.message_count);
    audit::record_by(
        engine,
        who,
        kind::SESSION_FORKED,
        Some(&source),
        json!({"target": target, "fork_point": fork_point}),
    )
    .await;
    engine.emit(EngineEvent::SessionsChanged {
        key: target.clone(),
        reason: "forked",
        row: Some(std::sync::Arc::new(row)),
    });
    Ok(ForkResult {
        ok: true,
        source_session_key: source,
        target_session_key: target,
        fork_point,
    })
}

/// The key a default fork name starts from: a fork of a fork keeps the root's name
/// (`a-fork-1234abcd-fork-…` → `a`), so names do not grow (decisions.md).
pub fn fork_root(key: &str) -> &str {
    let mut root = key;
    while let Some((head, tail)) = root.rsplit_once("-fork-") {
        if tail.len() == 8 && tail.bytes().all(|b| b.is_ascii_hexdigit()) && !head.is_empty() {
            root = head;
        } else {
            break;
        }
    }
    root
}

/// Deletes a session and its messages (not its forks). Unknown → false, nothing created.
pub async fn delete(engine: &Engine, who: &Principal, key: Option<&str>) -> Result<(String, bool)> {
    let key = normalize_session_key(key)?;
    // Ends its runs and drops its queue without writing anything afterwards.
    engine.runs().discard(&key);
    let k = key.clone();
    let deleted = engine
        .store()
        .write_async(move |s| s.session_delete(&k))
        .await?;
    if deleted {
        audit::record_by(engine, who, kind::SESSION_DELETED, Some(&key), json!({})).await;
        engine.emit(EngineEvent::SessionsChanged {
            key: key.clone(),
            reason: "deleted",
            row: None,
        });
    }
    Ok((key, deleted))
}

/// Clears a session's messages and starts a new generation (a new `sessionId`), keeping its
/// label, levels and lineage.
pub async fn reset(engine: &Engine, who: &Principal, key: Option<&str>) -> Result<(String, bool)> {
    let (key, row) = reset_row(engine, who, key, None).await?;
    Ok((key, row.is_some()))
}

/// `reset` returning the session after it (None: unknown session). With `expected_session_id`
/// the reset happens only while the session is still in that generation (OpenClaw's
/// `expectedSessionId`), else INVALID_REQUEST with `details.reason:"session-changed"`.
pub async fn reset_row(
    engine: &Engine,
    who: &Principal,
    key: Option<&str>,
    expected_session_id: Option<&str>,
) -> Result<(String, Option<SessionRow>)> {
    let key = normalize_session_key(key)?;
    if let Some(expected) = expected_session_id {
        let k = key.clone();
        let current = engine
            .store()
            .read_async(move |s| s.session_get(&k))
            .await?;
        if current.as_ref().is_some_and(|r| r.session_id != expected) {
            return Err(
                Error::invalid(format!("Session {key} changed before reset. Retry."))
                    .with_details(json!({"reason": "session-changed"})),
            );
        }
    }
    // Ends its runs and drops its queue without writing anything afterwards.
    engine.runs().discard(&key);
    let (k, now) = (key.clone(), engine.now_ms());
    let row = engine
        .store()
        .write_async(move |s| {
            if !s.session_reset(&k, now)? {
                return Ok(None);
            }
            s.session_get(&k)
        })
        .await?;
    if let Some(r) = &row {
        audit::record_by(engine, who, kind::SESSION_RESET, Some(&key), json!({})).await;
        engine.emit(EngineEvent::SessionsChanged {
            key: key.clone(),
            reason: "reset",
            row: Some(std::sync::Arc::new(r.clone())),
        });
    }
    Ok((key, row))
}

/// Settings as parsed strings; `Some(None)` clears the label.
#[derive(Debug, Default, Clone)]
pub struct SettingsParams {
    pub label: Option<Option<String>>,
    pub thinking_level: Option<String>,
    pub verbose_level: Option<String>,
    pub reasoning_level: Option<String>,
    /// The agent (id or model name) the session's runs use; `Some(None)` = the default.
    pub agent: Option<Option<String>>,
}

/// Applies settings (creating the session if missing). Only the given fields change.
pub async fn patch(engine: &Engine, key: Option<&str>, p: SettingsParams) -> Result<SessionRow> {
    let key = normalize_session_key(key)?;
    let label = match p.label {
        Some(Some(l)) => {
            let l = l.trim().to_string();
            if l.chars().count() > 200 {
                return Err(Error::invalid("label is longer than 200 characters"));
            }
            Some(if l.is_empty() { None } else { Some(l) })
        }
        other => other,
    };
    let patch = SessionPatch {
        label,
        thinking_level: p
            .thinking_level
            .as_deref()
            .map(ThinkingLevel::parse)
            .transpose()?,
        verbose_level: p
            .verbose_level
            .as_deref()
            .map(VerboseLevel::parse)
            .transpose()?,
        reasoning_level: p
            .reasoning_level
            .as_deref()
            .map(ReasoningLevel::parse)
            .transpose()?,
        agent_id: match p.agent {
            Some(Some(a)) if !a.trim().is_empty() => Some(Some(
                engine
                    .runs()
                    .agents()
                    .resolve(Some(a.trim()))?
                    .id()
                    .to_string(),
            )),
            Some(_) => Some(None),
            None => None,
        },
    };
    let (k, now) = (key.clone(), engine.now_ms());
    let patched = engine
        .store()
        .write_async(move |s| s.session_patch(&k, &patch, true, now))
        .await?;
    let Some((row, created)) = patched else {
        return Err(Error::internal(format!(
            "session '{key}' could not be created"
        )));
    };
    engine.emit(EngineEvent::SessionsChanged {
        key,
        reason: if created { "created" } else { "updated" },
        row: Some(std::sync::Arc::new(row.clone())),
    });
    Ok(row)
}

#[cfg(test)]
mod fork_name_tests {
    use super::fork_root;

    #[test]
    fn a_fork_of_a_fork_keeps_the_root_name() {
        assert_eq!(fork_root("a"), "a");
        assert_eq!(fork_root("a-fork-8dd9ce99"), "a");
        assert_eq!(fork_root("a-fork-8dd9ce99-fork-31ef8033"), "a");
        // Not our suffix: kept as it is.
        assert_eq!(fork_root("deploy-fork-notes"), "deploy-fork-notes");
        assert_eq!(fork_root("-fork-8dd9ce99"), "-fork-8dd9ce99");
    }
}
