//! The `messages` table: chat messages belonging to a session by id. Appending keeps the
//! session's denormalized count, preview and `updated_at` in step, in the same transaction.

use crate::sessions::{get_by_key, insert_default, preview_of};
use crate::sql_error::SqlContext;
use crate::Store;
use microclaw_core::{Error, Result};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

/// The roles a stored message may have.
pub const MESSAGE_ROLES: &[&str] = &["user", "assistant"];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub session_key: String,
    pub role: String,
    pub text: String,
    pub created_at: i64,
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
        if !MESSAGE_ROLES.contains(&role) {
            return Err(Error::invalid(format!(
                "invalid message role '{role}': expected one of {}",
                MESSAGE_ROLES.join(", ")
            )));
        }
        self.write(&format!("appending a message to session '{key}'"), |c| {
            let session_id = match get_by_key(c, key)? {
                Some(row) => row.id,
                None => insert_default(c, key, now)?,
            };
            c.prepare_cached(
                "INSERT INTO messages (session_id, role, text, created_at) VALUES (?1, ?2, ?3, ?4)",
            )
            .ctx("preparing the message insert")?
            .execute(params![session_id, role, text, now])
            .ctx("inserting the message")?;
            let id = c.last_insert_rowid();
            c.prepare_cached(
                "UPDATE sessions SET message_count = message_count + 1, \
                 last_message_preview = ?2, updated_at = ?3 WHERE id = ?1",
            )
            .ctx("preparing the session counters update")?
            .execute(params![session_id, preview_of(text), now])
            .ctx("updating the session's message count")?;
            Ok(MessageRow {
                id,
                session_key: key.to_string(),
                role: role.to_string(),
                text: text.to_string(),
                created_at: now,
            })
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
            let mut rows = tx
                .prepare_cached(
                    "SELECT id, role, text, created_at FROM messages \
                     WHERE session_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
                )
                .ctx("preparing the message page query")?
                .query_map(
                    params![session_id, before.unwrap_or(i64::MAX), i64::from(limit) + 1],
                    |r| {
                        Ok(MessageRow {
                            id: r.get(0)?,
                            session_key: key.to_string(),
                            role: r.get(1)?,
                            text: r.get(2)?,
                            created_at: r.get(3)?,
                        })
                    },
                )
                .ctx("reading messages")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading message rows")?;
            let has_more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            rows.reverse();
            tx.finish().ctx("ending the message page read")?;
            Ok(Some((rows, has_more)))
        })
    }
}
