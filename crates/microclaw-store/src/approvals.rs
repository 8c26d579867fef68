//! The `approvals` and `approval_rules` tables (operations.md §1): acting-tool calls waiting
//! for an operator, how each was settled, and the `allow-always` rules. Settling is
//! first-answer-wins: only a row still `pending` changes.

use crate::sql_error::SqlContext;
use crate::Store;
use microclaw_core::Result;
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalRow {
    pub id: String,
    pub kind: String,
    pub session_key: String,
    pub agent_id: String,
    pub run_id: String,
    pub tool: String,
    pub command: String,
    pub cwd: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// `pending` | `allowed` | `denied` | `expired`.
    pub status: String,
    /// `allow-once` | `allow-always` | `deny`; `None` while pending.
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<i64>,
}

/// A new pending approval.
#[derive(Debug, Clone)]
pub struct ApprovalNew {
    pub id: String,
    pub session_key: String,
    pub agent_id: String,
    pub run_id: String,
    pub tool: String,
    pub command: String,
    pub cwd: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What settling an approval found.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolveOutcome {
    /// This call settled it (the row after the change).
    Applied(ApprovalRow),
    /// It was already settled (the recorded row).
    AlreadyResolved(ApprovalRow),
    NotFound,
}

const COLUMNS: &str = "id, kind, session_key, agent_id, run_id, tool, command, cwd, created_at, \
     expires_at, status, decision, reason, resolved_by, resolved_at";

fn row(r: &Row<'_>) -> rusqlite::Result<ApprovalRow> {
    Ok(ApprovalRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        session_key: r.get(2)?,
        agent_id: r.get(3)?,
        run_id: r.get(4)?,
        tool: r.get(5)?,
        command: r.get(6)?,
        cwd: r.get(7)?,
        created_at: r.get(8)?,
        expires_at: r.get(9)?,
        status: r.get(10)?,
        decision: r.get(11)?,
        reason: r.get(12)?,
        resolved_by: r.get(13)?,
        resolved_at: r.get(14)?,
    })
}

fn get(c: &rusqlite::Connection, id: &str) -> Result<Option<ApprovalRow>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM approvals WHERE id = ?1"),
        [id],
        row,
    )
    .optional()
    .ctx("reading an approval")
}

fn rows(c: &rusqlite::Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<ApprovalRow>> {
    let mut st = c.prepare_cached(sql).ctx("preparing an approvals query")?;
    let out = st
        .query_map(p, row)
        .ctx("querying approvals")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .ctx("reading approvals")?;
    Ok(out)
}

impl Store {
    /// Stores a pending approval; terminal rows settled before `prune_before` are dropped.
    pub fn approval_insert(&self, a: &ApprovalNew, prune_before: i64) -> Result<ApprovalRow> {
        self.write("storing an approval", |c| {
            c.execute(
                "DELETE FROM approvals WHERE status <> 'pending' AND resolved_at < ?1",
                [prune_before],
            )
            .ctx("pruning old approvals")?;
            c.execute(
                "INSERT INTO approvals (id, session_key, agent_id, run_id, tool, command, cwd, \
                 created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    a.id,
                    a.session_key,
                    a.agent_id,
                    a.run_id,
                    a.tool,
                    a.command,
                    a.cwd,
                    a.created_at,
                    a.expires_at
                ],
            )
            .ctx("inserting the approval")?;
            get(c, &a.id)?.ok_or_else(|| {
                microclaw_core::Error::internal("the approval just stored cannot be read back")
            })
        })
    }

    /// Settles a pending approval (`status`: allowed | denied | expired).
    pub fn approval_resolve(
        &self,
        id: &str,
        status: &str,
        decision: &str,
        reason: &str,
        resolved_by: Option<&str>,
        now: i64,
    ) -> Result<ResolveOutcome> {
        self.write("settling an approval", |c| {
            let n = c
                .execute(
                    "UPDATE approvals SET status = ?2, decision = ?3, reason = ?4, \
                     resolved_by = ?5, resolved_at = ?6 WHERE id = ?1 AND status = 'pending'",
                    params![id, status, decision, reason, resolved_by, now],
                )
                .ctx("settling the approval")?;
            Ok(match (n, get(c, id)?) {
                (_, None) => ResolveOutcome::NotFound,
                (0, Some(r)) => ResolveOutcome::AlreadyResolved(r),
                (_, Some(r)) => ResolveOutcome::Applied(r),
            })
        })
    }

    /// Settles every pending approval at once (a restart); returns the rows changed.
    pub fn approvals_end_pending(
        &self,
        status: &str,
        decision: &str,
        reason: &str,
        now: i64,
    ) -> Result<Vec<ApprovalRow>> {
        self.write("ending pending approvals", |c| {
            let ids: Vec<String> = {
                let mut st = c
                    .prepare("SELECT id FROM approvals WHERE status = 'pending'")
                    .ctx("finding pending approvals")?;
                let ids = st
                    .query_map([], |r| r.get(0))
                    .ctx("listing pending approvals")?
                    .collect::<rusqlite::Result<Vec<String>>>()
                    .ctx("reading pending approvals")?;
                ids
            };
            c.execute(
                "UPDATE approvals SET status = ?1, decision = ?2, reason = ?3, \
                 resolved_by = 'system', resolved_at = ?4 WHERE status = 'pending'",
                params![status, decision, reason, now],
            )
            .ctx("ending pending approvals")?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                out.extend(get(c, &id)?);
            }
            Ok(out)
        })
    }

    pub fn approval_get(&self, id: &str) -> Result<Option<ApprovalRow>> {
        self.read(|c| get(c, id))
    }

    /// Pending approvals, oldest first (at most `limit`).
    pub fn approvals_pending(&self, limit: u32) -> Result<Vec<ApprovalRow>> {
        self.read(|c| {
            rows(
                c,
                &format!(
                    "SELECT {COLUMNS} FROM approvals WHERE status = 'pending' \
                     ORDER BY created_at, id LIMIT ?1"
                ),
                [limit],
            )
        })
    }

    pub fn approvals_pending_count(&self) -> Result<usize> {
        self.read(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM approvals WHERE status = 'pending'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .ctx("counting pending approvals")
            .map(|n| n.max(0) as usize)
        })
    }

    /// Settled approvals, newest first, strictly before the cursor `(resolved_at, id)`.
    pub fn approvals_history(
        &self,
        before: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<ApprovalRow>> {
        let (at, id) = before.unwrap_or((i64::MAX, ""));
        self.read(|c| {
            rows(
                c,
                &format!(
                    "SELECT {COLUMNS} FROM approvals WHERE status <> 'pending' \
                     AND (resolved_at < ?1 OR (resolved_at = ?1 AND id < ?2)) \
                     ORDER BY resolved_at DESC, id DESC LIMIT ?3"
                ),
                params![at, if id.is_empty() { "\u{10FFFF}" } else { id }, limit],
            )
        })
    }

    /// Records an `allow-always` rule (replacing an older one for the same call).
    pub fn approval_rule_add(
        &self,
        agent_id: &str,
        tool: &str,
        command: &str,
        approval_id: &str,
        now: i64,
    ) -> Result<()> {
        self.write("storing an allow-always rule", |c| {
            c.execute(
                "INSERT OR REPLACE INTO approval_rules (agent_id, tool, command, approval_id, \
                 created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![agent_id, tool, command, approval_id, now],
            )
            .ctx("inserting the rule")?;
            Ok(())
        })
    }

    /// Whether an `allow-always` rule covers this exact call.
    pub fn approval_rule_matches(&self, agent_id: &str, tool: &str, command: &str) -> Result<bool> {
        self.read(|c| {
            c.query_row(
                "SELECT 1 FROM approval_rules WHERE agent_id = ?1 AND tool = ?2 AND command = ?3",
                params![agent_id, tool, command],
                |_| Ok(()),
            )
            .optional()
            .ctx("looking up allow-always rules")
            .map(|r| r.is_some())
        })
    }
}
