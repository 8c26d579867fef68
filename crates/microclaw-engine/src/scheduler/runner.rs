//! One attempt of a job: start an ordinary run, await its real outcome (final → ok; error,
//! aborted, timeout → failure), then record it and decide: retry on the ladder, dead-letter
//! (audit + `cron` event + desktop notification), or done.

use super::job::{parse_def, parse_state, JobDef, PendingRetry};
use super::{MAX_DLQ_ITEMS, RUNS_KEPT_PER_JOB};
use crate::engine::Engine;
use crate::events::EngineEvent;
use microclaw_agent::{ChatState, StartRun};
use microclaw_core::{Error, Result};
use microclaw_store::scheduler_jobs::{DlqRow, SchedRunRow};
use serde_json::json;
use std::sync::Arc;

pub const AUDIT_DEAD_LETTER: &str = "scheduler.dead_letter";

#[derive(Debug, Clone)]
pub struct Attempt {
    pub due_at: i64,
    pub attempt: i64,
    /// `schedule` | `catch-up` | `retry` | `manual` | `replay`.
    pub trigger: String,
    /// Counts in `scheduler_recoverability_7d` (due runs do; manual runs do not).
    pub counted: bool,
    /// The DLQ item a replay works on.
    pub dlq_id: Option<String>,
    pub cron_run_id: Option<String>,
}

impl Attempt {
    pub fn new(due_at: i64, attempt: i64, trigger: &str, counted: bool) -> Attempt {
        Attempt {
            due_at,
            attempt,
            trigger: trigger.to_string(),
            counted,
            dlq_id: None,
            cron_run_id: None,
        }
    }
}

#[derive(Debug)]
pub enum FireError {
    AlreadyRunning,
    Op(Error),
}

impl From<Error> for FireError {
    fn from(e: Error) -> Self {
        FireError::Op(e)
    }
}

impl From<FireError> for Error {
    fn from(e: FireError) -> Self {
        match e {
            FireError::AlreadyRunning => Error::conflict("the job already has a run in flight"),
            FireError::Op(e) => e,
        }
    }
}

/// Starts one attempt; returns (cron run id, agent run id). The outcome is awaited in a task.
pub async fn fire(
    engine: &Arc<Engine>,
    job_id: &str,
    def: &JobDef,
    a: Attempt,
) -> std::result::Result<(String, String), FireError> {
    let now = engine.now_ms();
    {
        let mut running = engine.scheduler().running.lock();
        if running.contains_key(job_id) {
            return Err(FireError::AlreadyRunning);
        }
        running.insert(job_id.to_string(), now);
    }
    let cron_run_id = a
        .cron_run_id
        .clone()
        .unwrap_or_else(|| format!("{job_id}:{}:{}", a.due_at, a.attempt));
    let started = start_run(engine, def).await;
    let (key, run_id, start_err) = match started {
        Ok((key, run_id, mut gate)) => {
            gate.release();
            (Some(key), Some(run_id), None)
        }
        Err(e) => (def.session_key.clone(), None, Some(e.message)),
    };
    let row = SchedRunRow {
        id: 0,
        job_id: job_id.to_string(),
        cron_run_id: cron_run_id.clone(),
        run_id: run_id.clone(),
        session_key: key.clone(),
        due_at: a.due_at,
        attempt: a.attempt,
        trigger: a.trigger.clone(),
        started_at: now,
        finished_at: None,
        status: None,
        error: None,
        duration_ms: None,
    };
    let row_id = match engine
        .store()
        .write_async(move |s| s.sched_run_begin(&row))
        .await
    {
        Ok(id) => id,
        Err(e) => {
            engine.scheduler().running.lock().remove(job_id);
            return Err(e.into());
        }
    };
    engine.emit(EngineEvent::Cron(json!({
        "jobId": job_id, "action": "started", "runAtMs": now, "runId": run_id,
        "cronRunId": cron_run_id, "sessionKey": key, "attempt": a.attempt, "trigger": a.trigger,
    })));
    let (engine2, job_id2, run_id2) = (engine.clone(), job_id.to_string(), run_id.clone());
    tokio::spawn(async move {
        let error = match (run_id2.as_deref(), start_err) {
            (_, Some(e)) => Some(e),
            (Some(rid), None) => match engine2.runs().wait(rid).await {
                Some(o) if o.state == ChatState::Final => None,
                Some(o) => Some(
                    o.error_message
                        .unwrap_or_else(|| format!("the run ended {}", o.state.as_str())),
                ),
                None => Some(format!("run {rid} vanished before it ended")),
            },
            (None, None) => Some("the run did not start".into()),
        };
        finish(&engine2, &job_id2, row_id, run_id2, key, a, error).await;
    });
    Ok((cron_run_id, run_id.unwrap_or_default()))
}

async fn start_run(
    engine: &Engine,
    def: &JobDef,
) -> Result<(String, String, microclaw_agent::StartOutcome)> {
    if def.session_target == "isolated" {
        let sp = crate::ops::chat::spawn(
            engine,
            &def.message,
            Some(&def.name),
            def.agent_id.as_deref(),
            def.timeout_seconds,
        )
        .await?;
        let rid = sp.outcome.run_id.clone();
        return Ok((sp.key, rid, sp.outcome));
    }
    let key = microclaw_core::normalize_session_key(def.session_key.as_deref())?;
    let outcome = engine
        .runs()
        .start(StartRun {
            session_key: key.clone(),
            message: def.message.clone(),
            idempotency_key: None,
            timeout_secs: def.timeout_seconds,
            agent_id: def.agent_id.clone(),
            queue_mode: None,
        })
        .await?;
    Ok((key, outcome.run_id.clone(), outcome))
}

async fn finish(
    engine: &Arc<Engine>,
    job_id: &str,
    row_id: i64,
    run_id: Option<String>,
    key: Option<String>,
    a: Attempt,
    error: Option<String>,
) {
    let now = engine.now_ms();
    let status = if error.is_none() { "ok" } else { "error" };
    // The job's state (last status, the pending retry) is written before the run is marked
    // finished: whoever sees the finished run also sees what it decided.
    let outcome = update_job(engine, job_id, &a, error.as_deref(), now).await;
    let err2 = error.clone();
    if let Err(e) = engine
        .store()
        .write_async(move |s| {
            s.sched_run_end(row_id, status, err2.as_deref(), now, RUNS_KEPT_PER_JOB)
        })
        .await
    {
        tracing::warn!("scheduler: recording run {row_id} failed: {e}");
    }
    let recorder = engine.metrics();
    let (dead, next_retry, next_run) = outcome.unwrap_or((false, None, None));
    match (&error, a.dlq_id.as_deref()) {
        (None, Some(dlq)) => {
            let (d, n) = (dlq.to_string(), now);
            let moved = engine
                .store()
                .write_async(move |s| {
                    let counted = s.sched_dlq_get(&d)?.is_some_and(|r| r.counted);
                    Ok(s.sched_dlq_transition(&d, &["replaying"], "replayed", n)? && counted)
                })
                .await;
            if matches!(moved, Ok(true)) {
                recorder.record_scheduler_recovered();
            }
        }
        (Some(e), Some(dlq)) => {
            let (d, e2, r2) = (dlq.to_string(), e.clone(), run_id.clone());
            let _ = engine
                .store()
                .write_async(move |s| s.sched_dlq_reopen(&d, &e2, r2.as_deref(), now))
                .await;
            alert_dead_letter(engine, job_id, dlq, e, a.attempt, &run_id).await;
        }
        (None, None) if a.counted => recorder.record_scheduler_run(true),
        _ => {}
    }
    let mut ev = json!({
        "jobId": job_id, "action": "finished", "status": status, "runAtMs": now,
        "runId": run_id, "sessionKey": key, "attempt": a.attempt, "trigger": a.trigger,
        "completionStatus": if error.is_none() { "succeeded" } else { "failed" },
        "nextRunAtMs": next_run,
    });
    if let Some(e) = &error {
        ev["error"] = json!(e);
    }
    if let Some(t) = next_retry {
        ev["nextRetryAtMs"] = json!(t);
    }
    if dead && a.dlq_id.is_none() {
        let dlq_id = format!("dlq_{}", uuid::Uuid::new_v4().simple());
        let item = DlqRow {
            id: dlq_id.clone(),
            job_id: job_id.to_string(),
            run_id: run_id.clone(),
            due_at: a.due_at,
            error: error.clone().unwrap_or_default(),
            attempts: a.attempt,
            failed_at: now,
            status: "open".into(),
            resolved_at: None,
            counted: a.counted,
        };
        if let Err(e) = engine
            .store()
            .write_async(move |s| s.sched_dlq_insert(&item, MAX_DLQ_ITEMS))
            .await
        {
            tracing::error!("scheduler: job {job_id} failed and could not be dead-lettered: {e}");
        }
        if a.counted {
            recorder.record_scheduler_run(false);
        }
        ev["deadLettered"] = json!(true);
        ev["dlqId"] = json!(dlq_id);
        let msg = error.clone().unwrap_or_default();
        alert_dead_letter(engine, job_id, &dlq_id, &msg, a.attempt, &run_id).await;
    }
    engine.emit(EngineEvent::Cron(ev));
    engine.scheduler().running.lock().remove(job_id);
    engine.scheduler().poke();
}

/// Applies the outcome to the job's state; returns (dead-lettered, next retry, next run).
async fn update_job(
    engine: &Engine,
    job_id: &str,
    a: &Attempt,
    error: Option<&str>,
    now: i64,
) -> Result<(bool, Option<i64>, Option<i64>)> {
    let (id, a, error) = (job_id.to_string(), a.clone(), error.map(str::to_string));
    engine
        .store()
        .write_async(move |s| {
            let Some(mut row) = s.sched_job_get(&id)? else {
                return Ok((error.is_some() && a.dlq_id.is_none(), None, None));
            };
            let def = parse_def(&row)?;
            let mut st = parse_state(&row);
            st.last_run_at_ms = Some(now);
            st.last_run_status = Some(if error.is_none() { "ok" } else { "error" }.into());
            st.last_error = error.clone();
            st.last_duration_ms = None;
            let mut dead = false;
            let mut next_retry = None;
            if error.is_none() {
                st.consecutive_errors = 0;
                st.retry = None;
            } else {
                st.consecutive_errors += 1;
                if a.dlq_id.is_some() {
                    // A failed replay stays in the DLQ; no new retry chain.
                } else if a.attempt < def.max_attempts {
                    let at = now + def.backoff_after(a.attempt);
                    st.retry = Some(PendingRetry {
                        due_at_ms: a.due_at,
                        attempt: a.attempt + 1,
                        at_ms: at,
                        counted: a.counted,
                    });
                    next_retry = Some(at);
                } else {
                    st.retry = None;
                    dead = true;
                }
            }
            let is_at = def.schedule.get("kind").and_then(|k| k.as_str()) == Some("at");
            if is_at && error.is_none() && def.delete_after_run && row.next_run_at.is_none() {
                s.sched_job_delete(&id)?;
                return Ok((false, None, None));
            }
            row.state = serde_json::to_string(&st).unwrap_or_else(|_| "{}".into());
            row.updated_at = row.updated_at.max(0);
            s.sched_job_save(&row)?;
            Ok((dead, next_retry, row.next_run_at))
        })
        .await
}

async fn alert_dead_letter(
    engine: &Engine,
    job_id: &str,
    dlq_id: &str,
    error: &str,
    attempts: i64,
    run_id: &Option<String>,
) {
    tracing::warn!("scheduler: job {job_id} dead-lettered after {attempts} attempt(s): {error}");
    crate::audit::record(
        engine,
        AUDIT_DEAD_LETTER,
        "scheduler",
        Some(job_id),
        json!({"dlqId": dlq_id, "error": error, "attempts": attempts, "runId": run_id}),
    )
    .await;
}

/// At start: attempts a stopped process left open are failures (and retried or dead-lettered
/// through the job's pending retry).
pub(super) async fn recover_interrupted(engine: &Arc<Engine>) {
    let now = engine.now_ms();
    let rows = match engine
        .store()
        .write_async(move |s| s.sched_runs_mark_interrupted(now))
        .await
    {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("scheduler: closing interrupted runs failed: {e}");
            return;
        }
    };
    for r in rows {
        let a = Attempt::new(r.due_at, r.attempt, "retry", r.trigger != "manual");
        let err = "the gateway stopped during the run";
        if let Ok((true, _, _)) = update_job(engine, &r.job_id, &a, Some(err), now).await {
            let item = DlqRow {
                id: format!("dlq_{}", uuid::Uuid::new_v4().simple()),
                job_id: r.job_id.clone(),
                run_id: r.run_id.clone(),
                due_at: r.due_at,
                error: err.into(),
                attempts: r.attempt,
                failed_at: now,
                status: "open".into(),
                resolved_at: None,
                counted: a.counted,
            };
            let id = item.id.clone();
            let _ = engine
                .store()
                .write_async(move |s| s.sched_dlq_insert(&item, MAX_DLQ_ITEMS))
                .await;
            alert_dead_letter(engine, &r.job_id, &id, err, r.attempt, &r.run_id).await;
        }
    }
}
