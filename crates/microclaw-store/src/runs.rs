//! The `runs` table: one row per agent run, found again by (session, idempotency key) so a
//! retried send does not start a second run; runs left `running` by a crash are marked aborted.

use crate::sql_error::{is_unique_violation, map_sql_error, SqlContext};
use crate::Store;
use microclaw_core::{Error, Result};
use rusqlite::{params, OptionalExtension};
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

impl Store {
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
            c.prepare_cached(
                "INSERT INTO runs (run_id, session_key, state, idempotency_key, started_at) \
                 VALUES (?1, ?2, 'running', ?3, ?4)",
            )
            .ctx("preparing the run insert")?
            .execute(params![run_id, session_key, idempotency_key, now])
            .map_err(|e| {
                if is_unique_violation(&e) {
                    Error::conflict(format!(
                        "run '{run_id}' or idempotency key {idempotency_key:?} for session \
                         '{session_key}' already exists"
                    ))
                } else {
                    map_sql_error(e, &format!("recording run '{run_id}'"))
                }
            })?;
            Ok(())
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
        if !RUN_END_STATES.contains(&state) {
            return Err(Error::invalid(format!(
                "invalid run end state '{state}': expected one of {}",
                RUN_END_STATES.join(", ")
            )));
        }
        self.write(&format!("finishing run '{run_id}'"), |c| {
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
