//! The `messages` table: chat messages belonging to a session by id. Appending keeps the
//! session's denormalized count, preview and `updated_at` in step, in the same transaction.

use crate::sessions::{get_by_key, insert_default, preview_of};
use crate::sql_error::SqlContext;
use crate::Store;
use microclaw_core::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// The roles a stored message may have.
pub const MESSAGE_ROLES: &[&str] = &["user", "assistant"];
/// Why a killed or failed run's assistant message ended (`stop_reason`).
pub const STOP_REASONS: &[&str] = &["aborted", "error", "budget", "runaway", "timeout"];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub session_key: String,
    pub role: String,
    pub text: String,
    pub created_at: i64,
    /// Set on the assistant message of a killed or failed run (one of [`STOP_REASONS`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// One message to insert (see [`insert_message`]).
pub(crate) struct NewMessage<'a> {
    pub(crate) role: &'a str,
    pub(crate) text: &'a str,
    pub(crate) stop_reason: Option<&'a str>,
    pub(crate) error_message: Option<&'a str>,
    pub(crate) now: i64,
}

pub(crate) fn check_role(role: &str) -> Result<()> {
    if MESSAGE_ROLES.contains(&role) {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "invalid message role '{role}': expected one of {}",
        MESSAGE_ROLES.join(", ")
    )))
}

pub(crate) fn check_stop_reason(reason: Option<&str>) -> Result<()> {
    match reason {
        Some(r) if !STOP_REASONS.contains(&r) => Err(Error::invalid(format!(
            "invalid stop reason '{r}': expected one of {}",
            STOP_REASONS.join(", ")
        ))),
        _ => Ok(()),
    }
}

/// Inserts a message into the session with row id `session_id` and updates its counters
/// (inside the caller's write transaction); returns the message id.
/// A message from `SELECT id, role, text, created_at, stop_reason, error_message`.
pub(crate) fn message_from_row(r: &rusqlite::Row<'_>, key: &str) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: r.get(0)?,
        session_key: key.to_string(),
        role: r.get(1)?,
        text: r.get(2)?,
        created_at: r.get(3)?,
        stop_reason: r.get(4)?,
        error_message: r.get(5)?,
    })
}

pub(crate) fn insert_message(c: &Connection, session_id: i64, m: &NewMessage<'_>) -> Result<i64> {
    c.prepare_cached(
        "INSERT INTO messages (session_id, role, text, created_at, stop_reason, error_message) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .ctx("preparing the message insert")?
    .execute(params![
        session_id,
        m.role,
        m.text,
        m.now,
        m.stop_reason,
        m.error_message
    ])
    .ctx("inserting the message")?;
    let id = c.last_insert_rowid();
    c.prepare_cached(
        "UPDATE sessions SET message_count = message_count + 1, \
         last_message_preview = ?2, updated_at = ?3 WHERE id = ?1",
    )
    .ctx("preparing the session counters update")?
    .execute(params![session_id, preview_of(m.text), m.now])
    .ctx("updating the session's message count")?;
    Ok(id)
}

/// The `limit` newest messages of the session with row id `session_id` (oldest first) and
/// whether older ones exist, read on `c` (a read connection or the writer's transaction).
pub(crate) fn recent_messages(
    c: &Connection,
    session_id: i64,
    key: &str,
    limit: u32,
    before: Option<i64>,
) -> Result<(Vec<MessageRow>, bool)> {
    let mut rows = c
        .prepare_cached(
            "SELECT id, role, text, created_at, stop_reason, error_message FROM messages \
             WHERE session_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
        )
        .ctx("preparing the message page query")?
        .query_map(
            params![session_id, before.unwrap_or(i64::MAX), i64::from(limit) + 1],
            |r| message_from_row(r, key),
        )
        .ctx("reading messages")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .ctx("reading message rows")?;
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    rows.reverse();
    Ok((rows, has_more))
}

impl Store {
    /// Appends one message, creating the session when missing; updates message_count,
    /// last_message_preview and updated_at.
    pub fn message_append(
        &self,
        key: &str,
        role: &str,
        text: &str,
        now: i64,
    ) -> Result<MessageRow> {
        check_role(role)?;
        self.write(&format!("appending a message to session '{key}'"), |c| {
            let session_id = match get_by_key(c, key)? {
                Some(row) => row.id,
                None => insert_default(c, key, now)?,
            };
            let m = NewMessage {
                role,
                text,
                stop_reason: None,
                error_message: None,
                now,
            };
            let id = insert_message(c, session_id, &m)?;
            Ok(MessageRow {
                id,
                session_key: key.to_string(),
                role: role.to_string(),
                text: text.to_string(),
                created_at: now,
                stop_reason: None,
                error_message: None,
            })
        })
    }

    /// Appends one message to an existing session (None when the session is unknown: nothing
    /// is created). `chat.inject` uses it.
    pub fn message_append_existing(
        &self,
        key: &str,
        role: &str,
        text: &str,
        now: i64,
    ) -> Result<Option<MessageRow>> {
        check_role(role)?;
        self.write(&format!("appending a message to session '{key}'"), |c| {
            let Some(row) = get_by_key(c, key)? else {
                return Ok(None);
            };
            let m = NewMessage {
                role,
                text,
                stop_reason: None,
                error_message: None,
                now,
            };
            let id = insert_message(c, row.id, &m)?;
            Ok(Some(MessageRow {
                id,
                session_key: key.to_string(),
                role: role.to_string(),
                text: text.to_string(),
                created_at: now,
                stop_reason: None,
                error_message: None,
            }))
        })
    }

    /// The `limit` newest messages with id < `before` (or the newest `limit`), oldest first,
    /// plus whether older ones exist. None when the session is unknown.
    pub fn messages_page(
        &self,
        key: &str,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Option<(Vec<MessageRow>, bool)>> {
        self.read(|c| {
            let tx = c
                .unchecked_transaction()
                .ctx("starting the message page read")?;
            let session_id: Option<i64> = tx
                .prepare_cached("SELECT id FROM sessions WHERE key = ?1")
                .ctx("preparing the session id lookup")?
                .query_row([key], |r| r.get(0))
                .optional()
                .ctx(&format!("looking up session '{key}'"))?;
            let Some(session_id) = session_id else {
                return Ok(None);
            };
            let page = recent_messages(&tx, session_id, key, limit, before)?;
            tx.finish().ctx("ending the message page read")?;
            Ok(Some(page))
        })
    }
}
