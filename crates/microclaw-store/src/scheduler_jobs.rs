//! The scheduler's tables (migration 0010): `scheduler_jobs` (definition and state as JSON,
//! `next_run_at` as a column), `scheduler_runs` (one row per attempt, pruned per job) and
//! `scheduler_dlq` (due runs whose retries ran out; pruned oldest first past a bound).

use crate::sql_error::SqlContext;
use crate::Store;
use microclaw_core::{Error, Result};
use rusqlite::{params, OptionalExtension, Row};

#[derive(Debug, Clone, PartialEq)]
pub struct SchedJobRow {
    pub id: String,
    /// The job definition (JSON text).
    pub job: String,
    pub enabled: bool,
    pub next_run_at: Option<i64>,
    /// The job's state (JSON text).
    pub state: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn job_row(r: &Row<'_>) -> rusqlite::Result<SchedJobRow> {
    Ok(SchedJobRow {
        id: r.get(0)?,
        job: r.get(1)?,
        enabled: r.get::<_, i64>(2)? != 0,
        next_run_at: r.get(3)?,
        state: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

const JOB_COLUMNS: &str = "id, job, enabled, next_run_at, state, created_at, updated_at";

/// One attempt of a job (`status` NULL while it runs).
#[derive(Debug, Clone, PartialEq)]
pub struct SchedRunRow {
    pub id: i64,
    pub job_id: String,
    pub cron_run_id: String,
    pub run_id: Option<String>,
    pub session_key: Option<String>,
    pub due_at: i64,
    pub attempt: i64,
    pub trigger: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub status: Option<String>,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
}

const RUN_COLUMNS: &str =
    "id, job_id, cron_run_id, run_id, session_key, due_at, attempt, trigger, \
     started_at, finished_at, status, error, duration_ms";

fn run_row(r: &Row<'_>) -> rusqlite::Result<SchedRunRow> {
    Ok(SchedRunRow {
        id: r.get(0)?,
        job_id: r.get(1)?,
        cron_run_id: r.get(2)?,
        run_id: r.get(3)?,
        session_key: r.get(4)?,
        due_at: r.get(5)?,
        attempt: r.get(6)?,
        trigger: r.get(7)?,
        started_at: r.get(8)?,
        finished_at: r.get(9)?,
        status: r.get(10)?,
        error: r.get(11)?,
        duration_ms: r.get(12)?,
    })
}

/// A due run in the dead-letter queue. `status`: `open` | `replaying` | `replayed` | `discarded`.
#[derive(Debug, Clone, PartialEq)]
pub struct DlqRow {
    pub id: String,
    pub job_id: String,
    pub run_id: Option<String>,
    pub due_at: i64,
    pub error: String,
    pub attempts: i64,
    pub failed_at: i64,
    pub status: String,
    pub resolved_at: Option<i64>,
    /// Whether the due run counted in the recoverability SLO (manual runs do not).
    pub counted: bool,
}

const DLQ_COLUMNS: &str =
    "id, job_id, run_id, due_at, error, attempts, failed_at, status, resolved_at, counted";

fn dlq_row(r: &Row<'_>) -> rusqlite::Result<DlqRow> {
    Ok(DlqRow {
        id: r.get(0)?,
        job_id: r.get(1)?,
        run_id: r.get(2)?,
        due_at: r.get(3)?,
        error: r.get(4)?,
        attempts: r.get(5)?,
        failed_at: r.get(6)?,
        status: r.get(7)?,
        resolved_at: r.get(8)?,
        counted: r.get::<_, i64>(9)? != 0,
    })
}

impl Store {
    /// Inserts a job; refuses past `max_jobs` jobs.
    pub fn sched_job_insert(&self, row: &SchedJobRow, max_jobs: i64) -> Result<()> {
        self.write("adding a scheduler job", |c| {
            let n: i64 = c
                .query_row("SELECT count(*) FROM scheduler_jobs", [], |r| r.get(0))
                .ctx("counting scheduler jobs")?;
            if n >= max_jobs {
                return Err(Error::invalid(format!(
                    "invalid cron.add params: the scheduler holds {n} jobs, the most it keeps \
                     (remove one first)"
                )));
            }
            c.execute(
                &format!(
                    "INSERT INTO scheduler_jobs ({JOB_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7)"
                ),
                params![
                    row.id,
                    row.job,
                    row.enabled as i64,
                    row.next_run_at,
                    row.state,
                    row.created_at,
                    row.updated_at
                ],
            )
            .ctx("inserting a scheduler job")?;
            Ok(())
        })
    }

    /// Replaces a job's definition, enabled flag, next fire time and state; false if missing.
    pub fn sched_job_save(&self, row: &SchedJobRow) -> Result<bool> {
        self.write("saving a scheduler job", |c| {
            let n = c
                .execute(
                    "UPDATE scheduler_jobs SET job = ?2, enabled = ?3, next_run_at = ?4, \
                     state = ?5, updated_at = ?6 WHERE id = ?1",
                    params![
                        row.id,
                        row.job,
                        row.enabled as i64,
                        row.next_run_at,
                        row.state,
                        row.updated_at
                    ],
                )
                .ctx("updating a scheduler job")?;
            Ok(n > 0)
        })
    }

    pub fn sched_job_get(&self, id: &str) -> Result<Option<SchedJobRow>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {JOB_COLUMNS} FROM scheduler_jobs WHERE id = ?1"),
                [id],
                job_row,
            )
            .optional()
            .ctx("reading a scheduler job")
        })
    }

    pub fn sched_job_list(&self) -> Result<Vec<SchedJobRow>> {
        self.read(|c| {
            let mut st = c
                .prepare(&format!(
                    "SELECT {JOB_COLUMNS} FROM scheduler_jobs ORDER BY created_at, id"
                ))
                .ctx("listing scheduler jobs")?;
            let rows = st
                .query_map([], job_row)
                .ctx("listing scheduler jobs")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading scheduler jobs")?;
            Ok(rows)
        })
    }

    pub fn sched_job_delete(&self, id: &str) -> Result<bool> {
        self.write("removing a scheduler job", |c| {
            let n = c
                .execute("DELETE FROM scheduler_jobs WHERE id = ?1", [id])
                .ctx("deleting a scheduler job")?;
            Ok(n > 0)
        })
    }

    /// Records a started attempt; returns its row id.
    pub fn sched_run_begin(&self, row: &SchedRunRow) -> Result<i64> {
        self.write("recording a scheduler run", |c| {
            c.execute(
                "INSERT INTO scheduler_runs (job_id, cron_run_id, run_id, session_key, due_at, \
                 attempt, trigger, started_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
                params![
                    row.job_id,
                    row.cron_run_id,
                    row.run_id,
                    row.session_key,
                    row.due_at,
                    row.attempt,
                    row.trigger,
                    row.started_at
                ],
            )
            .ctx("inserting a scheduler run")?;
            Ok(c.last_insert_rowid())
        })
    }

    /// Records an attempt's outcome and keeps the newest `keep` rows of its job.
    pub fn sched_run_end(
        &self,
        id: i64,
        status: &str,
        error: Option<&str>,
        finished_at: i64,
        keep: i64,
    ) -> Result<()> {
        self.write("finishing a scheduler run", |c| {
            c.execute(
                "UPDATE scheduler_runs SET status = ?2, error = ?3, finished_at = ?4, \
                 duration_ms = max(0, ?4 - started_at) WHERE id = ?1",
                params![id, status, error, finished_at],
            )
            .ctx("finishing a scheduler run")?;
            c.execute(
                "DELETE FROM scheduler_runs WHERE job_id = (SELECT job_id FROM scheduler_runs \
                 WHERE id = ?1) AND id NOT IN (SELECT id FROM scheduler_runs WHERE job_id = \
                 (SELECT job_id FROM scheduler_runs WHERE id = ?1) ORDER BY id DESC LIMIT ?2)",
                params![id, keep],
            )
            .ctx("pruning scheduler runs")?;
            Ok(())
        })
    }

    /// Attempts left running by a stopped process: marked `error`; returns them.
    pub fn sched_runs_mark_interrupted(&self, now: i64) -> Result<Vec<SchedRunRow>> {
        self.write("closing interrupted scheduler runs", |c| {
            let rows = c
                .prepare(&format!(
                    "SELECT {RUN_COLUMNS} FROM scheduler_runs WHERE status IS NULL"
                ))
                .ctx("listing interrupted scheduler runs")?
                .query_map([], run_row)
                .ctx("listing interrupted scheduler runs")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading interrupted scheduler runs")?;
            c.execute(
                "UPDATE scheduler_runs SET status = 'error', error = 'the gateway stopped \
                 during the run', finished_at = ?1 WHERE status IS NULL",
                [now],
            )
            .ctx("closing interrupted scheduler runs")?;
            Ok(rows)
        })
    }

    /// Newest first; `job_id` / `run_id` (either id) filter. Returns the page and the total.
    pub fn sched_runs_list(
        &self,
        job_id: Option<&str>,
        run_id: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<SchedRunRow>, i64)> {
        self.read(|c| {
            let filter = "(?1 IS NULL OR job_id = ?1) AND (?2 IS NULL OR run_id = ?2 OR \
                          cron_run_id = ?2)";
            let total: i64 = c
                .query_row(
                    &format!("SELECT count(*) FROM scheduler_runs WHERE {filter}"),
                    params![job_id, run_id],
                    |r| r.get(0),
                )
                .ctx("counting scheduler runs")?;
            let rows = c
                .prepare(&format!(
                    "SELECT {RUN_COLUMNS} FROM scheduler_runs WHERE {filter} \
                     ORDER BY id DESC LIMIT ?3 OFFSET ?4"
                ))
                .ctx("listing scheduler runs")?
                .query_map(params![job_id, run_id, limit, offset], run_row)
                .ctx("listing scheduler runs")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading scheduler runs")?;
            Ok((rows, total))
        })
    }

    /// Adds a DLQ item, then drops the oldest items past `max_items` (resolved ones first).
    pub fn sched_dlq_insert(&self, row: &DlqRow, max_items: i64) -> Result<()> {
        self.write("adding a dead-letter item", |c| {
            c.execute(
                &format!("INSERT INTO scheduler_dlq ({DLQ_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"),
                params![
                    row.id,
                    row.job_id,
                    row.run_id,
                    row.due_at,
                    row.error,
                    row.attempts,
                    row.failed_at,
                    row.status,
                    row.resolved_at,
                    row.counted as i64
                ],
            )
            .ctx("inserting a dead-letter item")?;
            c.execute(
                "DELETE FROM scheduler_dlq WHERE id NOT IN (SELECT id FROM scheduler_dlq \
                 ORDER BY (status IN ('open', 'replaying')) DESC, failed_at DESC LIMIT ?1)",
                [max_items],
            )
            .ctx("pruning the dead-letter queue")?;
            Ok(())
        })
    }

    /// Newest first; `all` includes replayed and discarded items.
    pub fn sched_dlq_list(&self, all: bool, limit: i64) -> Result<Vec<DlqRow>> {
        self.read(|c| {
            let rows = c
                .prepare(&format!(
                    "SELECT {DLQ_COLUMNS} FROM scheduler_dlq WHERE ?1 OR status IN \
                     ('open', 'replaying') ORDER BY failed_at DESC, id LIMIT ?2"
                ))
                .ctx("listing the dead-letter queue")?
                .query_map(params![all, limit], dlq_row)
                .ctx("listing the dead-letter queue")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading the dead-letter queue")?;
            Ok(rows)
        })
    }

    pub fn sched_dlq_get(&self, id: &str) -> Result<Option<DlqRow>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {DLQ_COLUMNS} FROM scheduler_dlq WHERE id = ?1"),
                [id],
                dlq_row,
            )
            .optional()
            .ctx("reading a dead-letter item")
        })
    }

    /// Moves an item from one of `from` to `status`; false when it was in none of them.
    pub fn sched_dlq_transition(
        &self,
        id: &str,
        from: &[&str],
        status: &str,
        now: i64,
    ) -> Result<bool> {
        self.write("updating a dead-letter item", |c| {
            let cur: Option<String> = c
                .query_row(
                    "SELECT status FROM scheduler_dlq WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()
                .ctx("reading a dead-letter item")?;
            if !cur.is_some_and(|s| from.contains(&s.as_str())) {
                return Ok(false);
            }
            let resolved = matches!(status, "replayed" | "discarded").then_some(now);
            c.execute(
                "UPDATE scheduler_dlq SET status = ?2, resolved_at = ?3 WHERE id = ?1",
                params![id, status, resolved],
            )
            .ctx("updating a dead-letter item")?;
            Ok(true)
        })
    }

    /// A failed replay: the item is open again with one more attempt and the new error.
    pub fn sched_dlq_reopen(
        &self,
        id: &str,
        error: &str,
        run_id: Option<&str>,
        now: i64,
    ) -> Result<()> {
        self.write("reopening a dead-letter item", |c| {
            c.execute(
                "UPDATE scheduler_dlq SET status = 'open', error = ?2, run_id = ?3, \
                 attempts = attempts + 1, failed_at = ?4, resolved_at = NULL WHERE id = ?1",
                params![id, error, run_id, now],
            )
            .ctx("reopening a dead-letter item")?;
            Ok(())
        })
    }
}
