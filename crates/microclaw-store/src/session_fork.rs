//! Session lineage on the `sessions` table: forking a session (copying a prefix of its
//! messages in one transaction) and reading the fork tree.

use crate::sessions::{get_by_key, preview_of, require_key, SessionRow};
use crate::sql_error::{is_unique_violation, map_sql_error, SqlContext};
use crate::Store;
use microclaw_core::{Error, Result};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreeNode {
    pub key: String,
    pub parent_key: Option<String>,
    pub fork_point: Option<i64>,
    pub label: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub message_count: i64,
}

const TREE_COLUMNS: &str =
    "key, parent_key, fork_point, label, created_at, updated_at, message_count";

impl Store {
    /// Creates `target` from messages [0, fork_point) of `source` (all when None), with label
    /// "<source label or key> (fork)", the source's levels and agent, and lineage set.
    /// NOT_FOUND unknown source, CONFLICT existing target, INVALID_REQUEST same key or a
    /// fork_point outside 0..=message count.
    pub fn session_fork(
        &self,
        source: &str,
        target: &str,
        fork_point: Option<i64>,
        now: i64,
    ) -> Result<SessionRow> {
        require_key(target)?;
        if source == target {
            return Err(Error::invalid(format!(
                "cannot fork session '{source}' onto itself: the target key must differ from the source"
            )));
        }
        self.write(&format!("forking session '{source}' to '{target}'"), |c| {
            let src = get_by_key(c, source)?
                .ok_or_else(|| Error::not_found(format!("session '{source}' not found")))?;
            if get_by_key(c, target)?.is_some() {
                return Err(Error::conflict(format!(
                    "session '{target}' already exists; choose another key for the fork"
                )));
            }
            let point = fork_point.unwrap_or(src.message_count);
            if point < 0 || point > src.message_count {
                return Err(Error::invalid(format!(
                    "fork_point {point} is out of range: session '{source}' has {} messages \
                     (expected 0..={})",
                    src.message_count, src.message_count
                )));
            }
            // "<parent label> (fork)", but never "… (fork) (fork)" (decisions.md).
            let base = src.label.as_deref().unwrap_or(&src.key);
            let label = if base.ends_with(" (fork)") {
                base.to_string()
            } else {
                format!("{base} (fork)")
            };
            c.prepare_cached(
                "INSERT INTO sessions (key, label, thinking_level, verbose_level, reasoning_level, \
                 parent_key, fork_point, agent_id, created_at, updated_at, message_count) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)",
            )
            .ctx("preparing the fork insert")?
            .execute(params![
                target,
                label,
                src.thinking_level.as_str(),
                src.verbose_level.as_str(),
                src.reasoning_level.as_str(),
                src.key,
                point,
                src.agent_id,
                now,
                point
            ])
            .map_err(|e| {
                if is_unique_violation(&e) {
                    Error::conflict(format!("session '{target}' already exists"))
                } else {
                    map_sql_error(e, &format!("creating fork '{target}'"))
                }
            })?;
            crate::store::note_sessions_delta(1);
            let new_id = c.last_insert_rowid();
            c.prepare_cached(
                "INSERT INTO messages (session_id, role, text, created_at, stop_reason, error_message) \
                 SELECT ?1, role, text, created_at, stop_reason, error_message FROM messages \
                 WHERE session_id = ?2 ORDER BY id LIMIT ?3",
            )
            .ctx("preparing the message copy")?
            .execute(params![new_id, src.id, point])
            .ctx(&format!("copying {point} messages into fork '{target}'"))?;
            let last: Option<String> = c
                .prepare_cached(
                    "SELECT text FROM messages WHERE session_id = ?1 ORDER BY id DESC LIMIT 1",
                )
                .ctx("preparing the preview lookup")?
                .query_row([new_id], |r| r.get(0))
                .optional()
                .ctx("reading the fork's last message")?;
            if let Some(text) = last {
                c.execute(
                    "UPDATE sessions SET last_message_preview = ?2 WHERE id = ?1",
                    params![new_id, preview_of(&text)],
                )
                .ctx("setting the fork's preview")?;
            }
            get_by_key(c, target)?
                .ok_or_else(|| Error::internal(format!("fork '{target}' vanished after insert")))
        })
    }

    /// Sessions as a forest, parents before children (ordered by creation). Rows whose parent
    /// is missing are roots. With `root`, only that session and its descendants (empty when
    /// `root` is unknown).
    pub fn sessions_tree(&self, root: Option<&str>, limit: u32) -> Result<Vec<TreeNode>> {
        self.read(|c| {
            let map = |r: &rusqlite::Row<'_>| {
                Ok(TreeNode {
                    key: r.get(0)?,
                    parent_key: r.get(1)?,
                    fork_point: r.get(2)?,
                    label: r.get(3)?,
                    created_at: r.get(4)?,
                    updated_at: r.get(5)?,
                    message_count: r.get(6)?,
                })
            };
            let rows = match root {
                None => c
                    .prepare_cached(&format!(
                        "SELECT {TREE_COLUMNS} FROM sessions ORDER BY created_at, id LIMIT ?1"
                    ))
                    .ctx("preparing the session tree query")?
                    .query_map([limit], map)
                    .ctx("reading the session tree")?
                    .collect::<rusqlite::Result<Vec<_>>>(),
                // UNION (not UNION ALL) stops on a cycle made by deleting and re-forking keys.
                Some(root) => c
                    .prepare_cached(&format!(
                        "WITH RECURSIVE sub(key) AS ( \
                           SELECT key FROM sessions WHERE key = ?1 \
                           UNION SELECT s.key FROM sessions s JOIN sub ON s.parent_key = sub.key) \
                         SELECT {TREE_COLUMNS} FROM sessions WHERE key IN (SELECT key FROM sub) \
                         ORDER BY created_at, id LIMIT ?2"
                    ))
                    .ctx("preparing the subtree query")?
                    .query_map(params![root, limit], map)
                    .ctx("reading the session subtree")?
                    .collect::<rusqlite::Result<Vec<_>>>(),
            };
            rows.ctx("reading tree nodes")
        })
    }
}
