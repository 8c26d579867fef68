//! The `sessions` table: one row per chat session, with denormalized `message_count` and
//! `last_message_preview` so list pages never touch `messages`. Fork and tree live in
//! `session_fork.rs`.

use crate::sql_error::{bad_column, SqlContext};
use crate::Store;
use microclaw_core::{Error, ReasoningLevel, Result, ThinkingLevel, VerboseLevel};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

/// How many characters of the latest message the session row keeps.
pub const PREVIEW_CHARS: usize = 120;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionRow {
    pub id: i64,
    pub key: String,
    pub label: Option<String>,
    pub thinking_level: ThinkingLevel,
    pub verbose_level: VerboseLevel,
    pub reasoning_level: ReasoningLevel,
    pub parent_key: Option<String>,
    pub fork_point: Option<i64>,
    pub agent_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub message_count: i64,
    pub last_message_preview: Option<String>,
    /// The generation (a uuid): [`Store::session_reset`] replaces it, so a run that started in
    /// an earlier generation writes nothing into this one (reported as `sessionId`).
    pub session_id: String,
    /// On a `sessions_list` search hit in message text: plain text around the match in the
    /// newest matching message (None otherwise; never stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_snippet: Option<String>,
}

/// Fields to change; `None` leaves a field alone, `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionPatch {
    pub label: Option<Option<String>>,
    pub thinking_level: Option<ThinkingLevel>,
    pub verbose_level: Option<VerboseLevel>,
    pub reasoning_level: Option<ReasoningLevel>,
    pub agent_id: Option<Option<String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    pub limit: u32,
    pub offset: u64,
    pub search: Option<String>,
}

pub(crate) const SESSION_COLUMNS: &str = "id, key, label, thinking_level, verbose_level, \
     reasoning_level, parent_key, fork_point, agent_id, created_at, updated_at, message_count, \
     last_message_preview, session_id";

pub(crate) fn session_from_row(r: &Row<'_>) -> rusqlite::Result<SessionRow> {
    let level = |idx: usize| -> rusqlite::Result<String> { r.get(idx) };
    Ok(SessionRow {
        id: r.get(0)?,
        key: r.get(1)?,
        label: r.get(2)?,
        thinking_level: ThinkingLevel::parse(&level(3)?).map_err(|e| bad_column(3, e))?,
        verbose_level: VerboseLevel::parse(&level(4)?).map_err(|e| bad_column(4, e))?,
        reasoning_level: ReasoningLevel::parse(&level(5)?).map_err(|e| bad_column(5, e))?,
        parent_key: r.get(6)?,
        fork_point: r.get(7)?,
        agent_id: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        message_count: r.get(11)?,
        last_message_preview: r.get(12)?,
        session_id: r.get::<_, Option<String>>(13)?.unwrap_or_default(),
        search_snippet: None,
    })
}

/// The first `PREVIEW_CHARS` characters of a message.
pub(crate) fn preview_of(text: &str) -> String {
    text.chars().take(PREVIEW_CHARS).collect()
}

pub(crate) fn get_by_key(c: &Connection, key: &str) -> Result<Option<SessionRow>> {
    c.prepare_cached(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE key = ?1"
    ))
    .ctx("preparing the session lookup")?
    .query_row([key], session_from_row)
    .optional()
    .ctx(&format!("reading session '{key}'"))
}

pub(crate) fn require_key(key: &str) -> Result<()> {
    if key.trim().is_empty() {
        return Err(Error::invalid("session key must not be empty"));
    }
    Ok(())
}

/// Inserts a session with default levels; returns its id.
pub(crate) fn insert_default(c: &Connection, key: &str, now: i64) -> Result<i64> {
    require_key(key)?;
    c.prepare_cached(
        "INSERT INTO sessions (key, created_at, updated_at, session_id) VALUES (?1, ?2, ?2, ?3)",
    )
    .ctx("preparing the session insert")?
    .execute(params![key, now, new_generation()])
    .ctx(&format!("creating session '{key}'"))?;
    crate::store::note_sessions_delta(1);
    Ok(c.last_insert_rowid())
}

/// A fresh session generation id (uuid v4, hyphenated).
pub(crate) fn new_generation() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Store {
    pub fn session_get(&self, key: &str) -> Result<Option<SessionRow>> {
        self.read(|c| get_by_key(c, key))
    }

    pub fn session_count(&self) -> Result<i64> {
        self.read(|c| {
            c.query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
                .ctx("counting sessions")
        })
    }

    /// Applies the patch (and bumps `updated_at`); creates the session first when missing and
    /// `create` is true. Returns None when missing and `!create`, else (row, created).
    pub fn session_patch(
        &self,
        key: &str,
        patch: &SessionPatch,
        create: bool,
        now: i64,
    ) -> Result<Option<(SessionRow, bool)>> {
        self.write(&format!("patching session '{key}'"), |c| {
            let (mut row, created) = match get_by_key(c, key)? {
                Some(row) => (row, false),
                None if !create => return Ok(None),
                None => {
                    insert_default(c, key, now)?;
                    let row = get_by_key(c, key)?.ok_or_else(|| {
                        Error::internal(format!("session '{key}' vanished right after insert"))
                    })?;
                    (row, true)
                }
            };
            if let Some(label) = &patch.label {
                row.label = label.clone();
            }
            if let Some(agent) = &patch.agent_id {
                row.agent_id = agent.clone();
            }
            row.thinking_level = patch.thinking_level.unwrap_or(row.thinking_level);
            row.verbose_level = patch.verbose_level.unwrap_or(row.verbose_level);
            row.reasoning_level = patch.reasoning_level.unwrap_or(row.reasoning_level);
            row.updated_at = now;
            c.prepare_cached(
                "UPDATE sessions SET label = ?2, thinking_level = ?3, verbose_level = ?4, \
                 reasoning_level = ?5, agent_id = ?6, updated_at = ?7 WHERE id = ?1",
            )
            .ctx("preparing the session update")?
            .execute(params![
                row.id,
                row.label,
                row.thinking_level.as_str(),
                row.verbose_level.as_str(),
                row.reasoning_level.as_str(),
                row.agent_id,
                row.updated_at
            ])
            .ctx(&format!("updating session '{key}'"))?;
            Ok(Some((row, created)))
        })
    }

    /// Newest `updated_at` first (ties: newest id first); `search` matches key or label as a
    /// case-insensitive substring, or message text through the FTS5 index (see
    /// `message_search`; text hits carry `search_snippet`). Returns the page and the total
    /// number of matching rows.
    pub fn sessions_list(&self, q: &ListQuery) -> Result<(Vec<SessionRow>, i64)> {
        let offset = i64::try_from(q.offset)
            .map_err(|_| Error::invalid(format!("offset {} is too large", q.offset)))?;
        let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
        self.read(|c| {
            let tx = c
                .unchecked_transaction()
                .ctx("starting the session list read")?;
            let (rows, total) = match search {
                None => {
                    let total: i64 = tx
                        .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
                        .ctx("counting sessions")?;
                    // Page the narrow index first, then fetch only the 50 full rows.
                    let sql = format!(
                        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id IN \
                         (SELECT id FROM sessions ORDER BY updated_at DESC, id DESC \
                          LIMIT ?1 OFFSET ?2) ORDER BY updated_at DESC, id DESC"
                    );
                    let rows = collect(&tx, &sql, params![q.limit, offset])?;
                    (rows, total)
                }
                Some(term) => crate::message_search::search_page(&tx, term, q.limit, offset)?,
            };
            tx.finish().ctx("ending the session list read")?;
            Ok((rows, total))
        })
    }

    /// The `n` most recently updated sessions.
    pub fn sessions_recent(&self, n: u32) -> Result<Vec<SessionRow>> {
        self.read(|c| {
            let sql = format!(
                "SELECT {SESSION_COLUMNS} FROM sessions ORDER BY updated_at DESC, id DESC LIMIT ?1"
            );
            collect(c, &sql, params![n])
        })
    }

    /// Deletes the session and its messages; forks keep their `parent_key` and become roots.
    pub fn session_delete(&self, key: &str) -> Result<bool> {
        self.write(&format!("deleting session '{key}'"), |c| {
            let n = c
                .prepare_cached("DELETE FROM sessions WHERE key = ?1")
                .ctx("preparing the session delete")?
                .execute([key])
                .ctx(&format!("deleting session '{key}'"))?;
            crate::store::note_sessions_delta(-(n as i64));
            Ok(n > 0)
        })
    }

    /// Removes every message but keeps the session's label, levels and lineage; starts a new
    /// generation (a new `session_id`), so runs of the old one persist nothing afterwards.
    pub fn session_reset(&self, key: &str, now: i64) -> Result<bool> {
        self.write(&format!("resetting session '{key}'"), |c| {
            let Some(row) = get_by_key(c, key)? else {
                return Ok(false);
            };
            c.prepare_cached("DELETE FROM messages WHERE session_id = ?1")
                .ctx("preparing the message delete")?
                .execute([row.id])
                .ctx(&format!("deleting the messages of session '{key}'"))?;
            c.prepare_cached(
                "UPDATE sessions SET message_count = 0, last_message_preview = NULL, \
                 updated_at = ?2, session_id = ?3 WHERE id = ?1",
            )
            .ctx("preparing the session reset")?
            .execute(params![row.id, now, new_generation()])
            .ctx(&format!("resetting session '{key}'"))?;
            Ok(true)
        })
    }
}

pub(crate) fn collect(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<SessionRow>> {
    c.prepare_cached(sql)
        .ctx("preparing a session query")?
        .query_map(params, session_from_row)
        .ctx("listing sessions")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .ctx("reading session rows")
}
