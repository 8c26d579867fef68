//! The `runs` table: one row per agent run, found again by (session, idempotency key) so a
//! retried send does not start a second run; runs left `running` by a crash are marked aborted.
//!
//! A run's two writes are one transaction each: [`Store::run_begin`] (session created when
//! missing, user message, run row; returns the session's generation) and [`Store::run_complete`]
//! (run row ended; the reply appended only while the session still exists in that same
//! generation, so a run killed by delete or reset never re-creates or refills the session).
//! Finished rows are pruned by [`Store::runs_prune`].

use crate::messages::{check_stop_reason, insert_message, recent_messages, MessageRow, NewMessage};
use crate::sessions::{get_by_key, insert_default};
use crate::sql_error::{is_unique_violation, map_sql_error, SqlContext};
use crate::Store;
use microclaw_core::{Error, Result, ThinkingLevel};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// Terminal states `run_finish` accepts.
pub const RUN_END_STATES: &[&str] = &["final", "error", "aborted"];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub run_id: String,
    pub session_key: String,
    /// running | final | error | aborted
    pub state: String,
    pub idempotency_key: Option<String>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub error_message: Option<String>,
}

/// What [`Store::run_begin`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunBegin {
    pub run_id: String,
    pub session_key: String,
    pub idempotency_key: Option<String>,
    /// The user message.
    pub message: String,
    /// How many earlier messages to hand back as context.
    pub history_limit: u32,
    pub now: i64,
}

/// What [`Store::run_begin`] found and did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunBegun {
    /// The session's generation (`sessions.session_id`) the run belongs to.
    pub generation: String,
    /// True when the user message created the session.
    pub created: bool,
    pub agent_id: Option<String>,
    pub thinking_level: ThinkingLevel,
    /// Up to `history_limit` messages before the user message, oldest first.
    pub history: Vec<MessageRow>,
}

/// The assistant message a run leaves behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReply {
    pub text: String,
    /// `None` for a reply that ended normally; else one of `STOP_REASONS`.
    pub stop_reason: Option<String>,
    pub error_message: Option<String>,
}

/// What [`Store::run_complete`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEnd {
    pub run_id: String,
    pub session_key: String,
    /// The generation from [`RunBegun`]: the reply is only appended while it is current.
    pub generation: String,
    /// One of [`RUN_END_STATES`].
    pub state: String,
    pub error_message: Option<String>,
    /// `None` → no message (e.g. a run discarded by delete or reset).
    pub reply: Option<RunReply>,
    pub now: i64,
}

fn check_end_state(state: &str) -> Result<()> {
    if RUN_END_STATES.contains(&state) {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "invalid run end state '{state}': expected one of {}",
        RUN_END_STATES.join(", ")
    )))
}

fn insert_run(c: &Connection, run_id: &str, key: &str, idem: Option<&str>, now: i64) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO runs (run_id, session_key, state, idempotency_key, started_at) \
         VALUES (?1, ?2, 'running', ?3, ?4)",
    )
    .ctx("preparing the run insert")?
    .execute(params![run_id, key, idem, now])
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::conflict(format!(
                "run '{run_id}' or idempotency key {idem:?} for session '{key}' already exists"
            ))
        } else {
            map_sql_error(e, &format!("recording run '{run_id}'"))
        }
    })?;
    Ok(())
}

fn end_run(c: &Connection, run_id: &str, state: &str, error: Option<&str>, now: i64) -> Result<()> {
    let n = c
        .prepare_cached(
            "UPDATE runs SET state = ?2, error_message = ?3, ended_at = ?4 WHERE run_id = ?1",
        )
        .ctx("preparing the run update")?
        .execute(params![run_id, state, error, now])
        .ctx(&format!("finishing run '{run_id}'"))?;
    if n == 0 {
        return Err(Error::not_found(format!("run '{run_id}' not found")));
    }
    Ok(())
}

impl Store {
    /// One transaction: creates the session when missing, reads the recent history, appends
    /// the user message and records the run `running`. CONFLICT (nothing written) when the run
    /// id or the (session, idempotency key) pair is taken.
    pub fn run_begin(&self, b: &RunBegin) -> Result<RunBegun> {
        let key = b.session_key.as_str();
        self.write(
            &format!("starting run '{}' in session '{key}'", b.run_id),
            |c| {
                let (row, created) = match get_by_key(c, key)? {
                    Some(row) => (row, false),
                    None => {
                        insert_default(c, key, b.now)?;
                        let row = get_by_key(c, key)?.ok_or_else(|| {
                            Error::internal(format!("session '{key}' vanished right after insert"))
                        })?;
                        (row, true)
                    }
                };
                let (history, _) = recent_messages(c, row.id, key, b.history_limit, None)?;
                let m = NewMessage {
                    role: "user",
                    text: &b.message,
                    stop_reason: None,
                    error_message: None,
                    now: b.now,
                };
                insert_message(c, row.id, &m)?;
                insert_run(c, &b.run_id, key, b.idempotency_key.as_deref(), b.now)?;
                Ok(RunBegun {
                    generation: row.session_id,
                    created,
                    agent_id: row.agent_id,
                    thinking_level: row.thinking_level,
                    history,
                })
            },
        )
    }

    /// One transaction: ends the run row and, when `reply` is given and the session still
    /// exists in the run's generation, appends the reply. Never creates a session. Returns the
    /// appended message (None when nothing was appended).
    pub fn run_complete(&self, e: &RunEnd) -> Result<Option<MessageRow>> {
        check_end_state(&e.state)?;
        if let Some(r) = &e.reply {
            check_stop_reason(r.stop_reason.as_deref())?;
        }
        let key = e.session_key.as_str();
        self.write(&format!("finishing run '{}'", e.run_id), |c| {
            end_run(c, &e.run_id, &e.state, e.error_message.as_deref(), e.now)?;
            let Some(reply) = &e.reply else {
                return Ok(None);
            };
            let session_id: Option<i64> = c
                .prepare_cached("SELECT id FROM sessions WHERE key = ?1 AND session_id = ?2")
                .ctx("preparing the session generation check")?
                .query_row(params![key, e.generation], |r| r.get(0))
                .optional()
                .ctx(&format!("checking the generation of session '{key}'"))?;
            let Some(session_id) = session_id else {
                return Ok(None);
            };
            let m = NewMessage {
                role: "assistant",
                text: &reply.text,
                stop_reason: reply.stop_reason.as_deref(),
                error_message: reply.error_message.as_deref(),
                now: e.now,
            };
            let id = insert_message(c, session_id, &m)?;
            Ok(Some(MessageRow {
                id,
                session_key: key.to_string(),
                role: "assistant".into(),
                text: reply.text.clone(),
                created_at: e.now,
                stop_reason: reply.stop_reason.clone(),
                error_message: reply.error_message.clone(),
            }))
        })
    }

    /// Deletes finished runs that ended before `now - max_age_ms`, and all but the newest
    /// `keep_rows` finished runs; runs still `running` are never touched. Returns how many.
    pub fn runs_prune(&self, keep_rows: u64, max_age_ms: i64, now: i64) -> Result<u64> {
        let keep = i64::try_from(keep_rows).unwrap_or(i64::MAX);
        let cutoff = now.saturating_sub(max_age_ms.max(0));
        self.write("pruning finished runs", |c| {
            let by_age = c
                .prepare_cached("DELETE FROM runs WHERE ended_at IS NOT NULL AND ended_at < ?1")
                .ctx("preparing the run prune by age")?
                .execute([cutoff])
                .ctx("pruning runs by age")?;
            let by_count = c
                .prepare_cached(
                    "DELETE FROM runs WHERE run_id IN (SELECT run_id FROM runs \
                     WHERE ended_at IS NOT NULL ORDER BY ended_at DESC LIMIT -1 OFFSET ?1)",
                )
                .ctx("preparing the run prune by count")?
                .execute([keep])
                .ctx("pruning runs beyond the retained count")?;
            Ok((by_age + by_count) as u64)
        })
    }

    /// How many rows the `runs` table holds.
    pub fn runs_count(&self) -> Result<u64> {
        self.read(|c| {
            c.query_row("SELECT count(*) FROM runs", [], |r| r.get::<_, i64>(0))
                .map(|n| n.max(0) as u64)
                .ctx("counting runs")
        })
    }

    /// Records a new run in state `running`. CONFLICT when the run id or the
    /// (session, idempotency key) pair is already taken.
    pub fn run_insert(
        &self,
        run_id: &str,
        session_key: &str,
        idempotency_key: Option<&str>,
        now: i64,
    ) -> Result<()> {
        self.write(&format!("recording run '{run_id}'"), |c| {
            insert_run(c, run_id, session_key, idempotency_key, now)
        })
    }

    /// Moves a run to a terminal state. NOT_FOUND for an unknown run id.
    pub fn run_finish(
        &self,
        run_id: &str,
        state: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<()> {
        check_end_state(state)?;
        self.write(&format!("finishing run '{run_id}'"), |c| {
            end_run(c, run_id, state, error, now)
        })
    }

    pub fn run_by_idempotency(&self, session_key: &str, idem: &str) -> Result<Option<RunRow>> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT run_id, session_key, state, idempotency_key, started_at, ended_at, \
                 error_message FROM runs WHERE session_key = ?1 AND idempotency_key = ?2",
            )
            .ctx("preparing the idempotency lookup")?
            .query_row(params![session_key, idem], |r| {
                Ok(RunRow {
                    run_id: r.get(0)?,
                    session_key: r.get(1)?,
                    state: r.get(2)?,
                    idempotency_key: r.get(3)?,
                    started_at: r.get(4)?,
                    ended_at: r.get(5)?,
                    error_message: r.get(6)?,
                })
            })
            .optional()
            .ctx("looking up a run by idempotency key")
        })
    }

    /// At start: every run still `running` (left by a crash) becomes `aborted`.
    pub fn runs_mark_interrupted(&self, now: i64) -> Result<u64> {
        self.write("marking interrupted runs", |c| {
            let n = c
                .execute(
                    "UPDATE runs SET state = 'aborted', ended_at = ?1, \
                     error_message = 'interrupted: the server stopped during the run' \
                     WHERE state = 'running'",
                    [now],
                )
                .ctx("marking interrupted runs")?;
            Ok(n as u64)
        })
    }
}
