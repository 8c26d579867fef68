//! What is due for one job at `now`: a pending retry, the catch-up backlog, or the schedule's
//! fire times since `next_run_at` (missed ones follow `catchUp`).

use super::job::{parse_def, parse_state, JobState};
use super::runner::{fire, Attempt};
use super::{MAX_CATCH_UP_RUNS, ON_TIME_GRACE_MS};
use crate::engine::Engine;
use microclaw_core::Result;
use microclaw_store::scheduler_jobs::{SchedJobRow, SchedRunRow};
use std::sync::Arc;

/// Fires what is due; returns the job's next wake instant when nothing fired.
pub(super) async fn plan_job(
    engine: &Arc<Engine>,
    row: &SchedJobRow,
    now: i64,
) -> Result<Option<i64>> {
    let def = parse_def(row)?;
    let mut st = parse_state(row);
    if let Some(r) = st.retry.clone() {
        if r.at_ms > now {
            return Ok(Some(r.at_ms));
        }
        let a = Attempt::new(r.due_at_ms, r.attempt, "retry", r.counted);
        fire(engine, &row.id, &def, a).await?;
        return Ok(None);
    }
    if let Some(due) = st.backlog.first().copied() {
        st.backlog.remove(0);
        save_state(engine, row, &st, row.next_run_at).await?;
        fire(
            engine,
            &row.id,
            &def,
            Attempt::new(due, 1, "catch-up", true),
        )
        .await?;
        return Ok(None);
    }
    let Some(next) = row.next_run_at else {
        return Ok(None);
    };
    if next > now {
        return Ok(Some(next));
    }
    let schedule = def.schedule()?;
    let mut dues = Vec::new();
    let mut d = Some(next);
    let mut total = 0usize;
    while let Some(t) = d.filter(|t| *t <= now) {
        total += 1;
        dues.push(t);
        if dues.len() > MAX_CATCH_UP_RUNS + 1 {
            dues.remove(0);
        }
        if total > 100_000 {
            break;
        }
        d = schedule.next_after(t);
    }
    let (missed, on_time): (Vec<i64>, Vec<i64>) =
        dues.iter().partition(|t| **t < now - ON_TIME_GRACE_MS);
    let missed_total = total - on_time.len();
    let mut runs: Vec<(i64, &str)> = Vec::new();
    match def.catch_up.as_str() {
        "all" => {
            let keep = missed.len().min(MAX_CATCH_UP_RUNS);
            runs.extend(
                missed[missed.len() - keep..]
                    .iter()
                    .map(|t| (*t, "catch-up")),
            );
            runs.extend(on_time.last().map(|t| (*t, "schedule")));
        }
        "skip" => runs.extend(on_time.last().map(|t| (*t, "schedule"))),
        _ => {
            if let Some(t) = on_time.last() {
                runs.push((*t, "schedule"));
            } else if let Some(t) = missed.last() {
                runs.push((*t, "catch-up"));
            }
        }
    }
    let skipped = total - runs.len();
    let next_run_at = schedule.next_after(now);
    if skipped > 0 {
        let why = format!(
            "{skipped} fire time(s) skipped ({missed_total} missed while the gateway was down or late; catchUp: {})",
            def.catch_up
        );
        record_skipped(
            engine,
            &row.id,
            dues.last().copied().unwrap_or(now),
            &why,
            now,
        )
        .await?;
    }
    st.backlog = runs.iter().skip(1).map(|(t, _)| *t).collect();
    save_state(engine, row, &st, next_run_at).await?;
    if let Some((due, trigger)) = runs.first() {
        fire(engine, &row.id, &def, Attempt::new(*due, 1, trigger, true)).await?;
        return Ok(None);
    }
    Ok(next_run_at)
}

async fn save_state(
    engine: &Engine,
    row: &SchedJobRow,
    st: &JobState,
    next: Option<i64>,
) -> Result<()> {
    let id = row.id.clone();
    let state = serde_json::to_string(st).unwrap_or_else(|_| "{}".into());
    engine
        .store()
        .write_async(move |s| {
            if let Some(mut cur) = s.sched_job_get(&id)? {
                cur.next_run_at = next;
                cur.state = state;
                s.sched_job_save(&cur)?;
            }
            Ok(())
        })
        .await
}

async fn record_skipped(
    engine: &Engine,
    job_id: &str,
    due: i64,
    why: &str,
    now: i64,
) -> Result<()> {
    let row = SchedRunRow {
        id: 0,
        job_id: job_id.to_string(),
        cron_run_id: format!("{job_id}:{due}:skipped"),
        run_id: None,
        session_key: None,
        due_at: due,
        attempt: 0,
        trigger: "catch-up".into(),
        started_at: now,
        finished_at: None,
        status: None,
        error: None,
        duration_ms: None,
    };
    let why = why.to_string();
    engine
        .store()
        .write_async(move |s| {
            let id = s.sched_run_begin(&row)?;
            s.sched_run_end(id, "skipped", Some(&why), now, super::RUNS_KEPT_PER_JOB)
        })
        .await
}
