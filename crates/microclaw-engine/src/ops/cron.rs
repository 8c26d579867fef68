//! `cron.*` and `cron.dlq.*` (OpenClaw shapes, `openclaw-methods.md` §4) over the scheduler.
//! Every function takes the params object (unknown keys ignored) so both transports share it.

use crate::engine::Engine;
use crate::events::EngineEvent;
use crate::scheduler::job::{
    def_from_params, def_to_params, parse_def, parse_enabled, parse_state, read_view, JobState,
};
use crate::scheduler::schedule::{iso, Schedule};
use crate::scheduler::{fire, Attempt, FireError, MAX_JOBS};
use microclaw_core::{Error, Result};
use microclaw_store::scheduler_jobs::{DlqRow, SchedJobRow, SchedRunRow};
use serde_json::{json, Map, Value};
use std::sync::Arc;

pub type P = Map<String, Value>;

fn not_found(id: &str) -> Error {
    Error::invalid(format!(
        "cron job not found: {id}. List automations and retry with a current job id."
    ))
    .with_details(json!({"code": "CRON_JOB_NOT_FOUND", "jobId": id}))
}

/// `id` or `jobId`.
pub fn job_id(method: &str, p: &P) -> Result<String> {
    ["id", "jobId"]
        .iter()
        .find_map(|k| {
            p.get(*k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        })
        .map(str::to_string)
        .ok_or_else(|| {
            Error::invalid(format!(
                "invalid {method} params: id (or jobId) is required"
            ))
        })
}

fn int(method: &str, p: &P, key: &str, min: i64, max: i64) -> Result<Option<i64>> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let n = v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| {
                    Error::invalid(format!("invalid {method} params: {key} must be an integer"))
                })?;
            if !(min..=max).contains(&n) {
                return Err(Error::invalid(format!(
                    "invalid {method} params: {key} {n} is out of range: expected {min}..={max}"
                )));
            }
            Ok(Some(n))
        }
    }
}

async fn load(engine: &Engine, id: &str) -> Result<SchedJobRow> {
    let id2 = id.to_string();
    engine
        .store()
        .read_async(move |s| s.sched_job_get(&id2))
        .await?
        .ok_or_else(|| not_found(id))
}

fn view(engine: &Engine, row: &SchedJobRow) -> Value {
    read_view(row, engine.scheduler().is_running(&row.id))
}

fn first_due(schedule: &Schedule, now: i64) -> Option<i64> {
    match schedule {
        Schedule::At { at_ms } => Some(*at_ms),
        s => s.next_after(now),
    }
}

fn emit(engine: &Engine, action: &str, job: &Value) {
    engine.emit(EngineEvent::Cron(
        json!({"jobId": job["id"], "action": action, "job": job}),
    ));
}

pub async fn list(engine: &Engine, p: &P) -> Result<Value> {
    let m = "cron.list";
    let rows = engine.store().read_async(|s| s.sched_job_list()).await?;
    let include_disabled = p
        .get("includeDisabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let enabled = p
        .get("enabled")
        .and_then(Value::as_str)
        .unwrap_or(if include_disabled { "all" } else { "enabled" });
    let query = p
        .get("query")
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let kind = p
        .get("scheduleKind")
        .and_then(Value::as_str)
        .unwrap_or("all");
    let mut jobs: Vec<Value> = rows
        .iter()
        .filter(|r| match enabled {
            "enabled" => r.enabled,
            "disabled" => !r.enabled,
            _ => true,
        })
        .map(|r| view(engine, r))
        .filter(|v| kind == "all" || v["schedule"]["kind"] == kind)
        .filter(|v| {
            query.as_ref().is_none_or(|q| {
                [&v["id"], &v["name"], &v["description"]]
                    .iter()
                    .any(|f| f.as_str().is_some_and(|s| s.to_lowercase().contains(q)))
            })
        })
        .collect();
    jobs.sort_by_key(|v| v["nextRunAtMs"].as_i64().unwrap_or(i64::MAX));
    let total = jobs.len() as i64;
    let limit = int(m, p, "limit", 1, 200)?.unwrap_or(200);
    let offset = int(m, p, "offset", 0, i64::MAX)?.unwrap_or(0);
    let page: Vec<Value> = jobs
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    let has_more = offset + (page.len() as i64) < total;
    Ok(json!({
        "jobs": page, "total": total, "offset": offset, "limit": limit, "hasMore": has_more,
        "nextOffset": if has_more { json!(offset + limit) } else { Value::Null },
        "snapshotRevision": engine.now_ms().to_string(),
    }))
}

pub async fn get(engine: &Engine, p: &P) -> Result<Value> {
    let id = job_id("cron.get", p)?;
    Ok(view(engine, &load(engine, &id).await?))
}

pub async fn status(engine: &Engine) -> Result<Value> {
    let rows = engine.store().read_async(|s| s.sched_job_list()).await?;
    let st = engine.scheduler();
    let next = rows
        .iter()
        .filter(|r| r.enabled)
        .filter_map(|r| {
            let s = parse_state(r);
            match (s.retry.map(|x| x.at_ms), r.next_run_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        })
        .min();
    let path = engine.store().path().display().to_string();
    Ok(json!({
        "enabled": st.is_started(), "triggersEnabled": st.is_started(), "storePath": path,
        "storage": "sqlite", "sqlitePath": path, "jobs": rows.len(), "nextWakeAtMs": next,
        "running": st.running.lock().len(), "processInstanceId": st.process_id,
    }))
}

pub async fn add(engine: &Engine, p: &P) -> Result<Value> {
    let m = "cron.add";
    super::freeze::guard(engine, "", super::freeze::override_of(p), m).await?;
    let now = engine.now_ms();
    let def = def_from_params(m, p, Some(now))?;
    let enabled = parse_enabled(m, p.get("enabled"))?.unwrap_or(true);
    let schedule = def.schedule()?;
    let row = SchedJobRow {
        id: format!("job_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
        job: serde_json::to_string(&def).map_err(|e| Error::internal(e.to_string()))?,
        enabled,
        next_run_at: first_due(&schedule, now),
        state: serde_json::to_string(&JobState::default()).unwrap_or_else(|_| "{}".into()),
        created_at: now,
        updated_at: now,
    };
    let r2 = row.clone();
    engine
        .store()
        .write_async(move |s| s.sched_job_insert(&r2, MAX_JOBS))
        .await?;
    engine.scheduler().poke();
    let mut v = view(engine, &row);
    emit(engine, "added", &v);
    v["deliveryPreview"] = json!({"label": "session", "detail": def.session_key.unwrap_or_else(|| "new session per run".into())});
    Ok(v)
}

pub async fn update(engine: &Engine, p: &P) -> Result<Value> {
    let m = "cron.update";
    super::freeze::guard(engine, "", super::freeze::override_of(p), m).await?;
    let id = job_id(m, p)?;
    let patch = p.get("patch").and_then(Value::as_object).ok_or_else(|| {
        Error::invalid("invalid cron.update params: patch is required: expected an object")
    })?;
    let mut row = load(engine, &id).await?;
    let old = parse_def(&row)?;
    let mut st = parse_state(&row);
    if let Some(exp) = p.get("expectedConfigRevision").and_then(Value::as_str) {
        if exp != st.revision.to_string() {
            return Err(Error::invalid(
                "cron job definition no longer matches the loaded version; reload it and retry",
            )
            .with_details(
                json!({"code": "CRON_JOB_CHANGED", "expectedConfigRevision": exp,
                "actualConfigRevision": st.revision.to_string()}),
            ));
        }
    }
    let mut merged = def_to_params(&old);
    for (k, v) in patch {
        if k == "payload" {
            if let (Some(Value::Object(cur)), Some(new)) =
                (merged.get_mut("payload"), v.as_object())
            {
                for (pk, pv) in new {
                    cur.insert(pk.clone(), pv.clone());
                }
                continue;
            }
        }
        if k == "sessionKey" && !v.is_null() {
            merged.remove("sessionTarget");
        }
        merged.insert(k.clone(), v.clone());
    }
    let now = engine.now_ms();
    let schedule_changed = patch.contains_key("schedule");
    let def = def_from_params(m, &merged, schedule_changed.then_some(now))?;
    let enabled = parse_enabled(m, patch.get("enabled"))?;
    let was_enabled = row.enabled;
    if let Some(e) = enabled {
        row.enabled = e;
    }
    if schedule_changed || (row.enabled && !was_enabled) {
        row.next_run_at = first_due(&def.schedule()?, now);
        if !was_enabled {
            st.consecutive_errors = 0;
        }
    }
    st.revision += 1;
    row.job = serde_json::to_string(&def).map_err(|e| Error::internal(e.to_string()))?;
    row.state = serde_json::to_string(&st).unwrap_or_else(|_| "{}".into());
    row.updated_at = now;
    let r2 = row.clone();
    if !engine
        .store()
        .write_async(move |s| s.sched_job_save(&r2))
        .await?
    {
        return Err(not_found(&id));
    }
    engine.scheduler().poke();
    let v = view(engine, &row);
    emit(engine, "updated", &v);
    Ok(v)
}

pub async fn remove(engine: &Engine, p: &P) -> Result<Value> {
    let id = job_id("cron.remove", p)?;
    let row = load(engine, &id).await?;
    let id2 = id.clone();
    engine
        .store()
        .write_async(move |s| s.sched_job_delete(&id2))
        .await?;
    engine.scheduler().poke();
    emit(engine, "removed", &view(engine, &row));
    Ok(json!({"ok": true, "removed": true}))
}

pub async fn run(engine: &Arc<Engine>, p: &P) -> Result<Value> {
    let m = "cron.run";
    let id = job_id(m, p)?;
    let row = load(engine, &id).await?;
    let st = engine.scheduler();
    let pid = st.process_id.clone();
    let mode = p.get("mode").and_then(Value::as_str).unwrap_or("force");
    let not_ran = |reason: &str| json!({"ok": true, "ran": false, "reason": reason, "processInstanceId": pid});
    match mode {
        "force" => {}
        "if-enabled" if !row.enabled => return Ok(not_ran("disabled")),
        "if-enabled" => {}
        "due" if row.next_run_at.is_none_or(|n| n > engine.now_ms()) => {
            return Ok(not_ran("not-due"))
        }
        "due" => {}
        other => {
            return Err(Error::invalid(format!(
                "invalid cron.run params: mode '{other}': expected due, force or if-enabled"
            )))
        }
    }
    let def = parse_def(&row)?;
    let now = engine.now_ms();
    let n = st
        .manual_seq
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        + 1;
    let mut a = Attempt::new(now, 1, "manual", false);
    a.cron_run_id = Some(format!("manual:{id}:{now}:{n}"));
    match fire(engine, &id, &def, a).await {
        Ok((cron_run_id, run_id)) => Ok(json!({"ok": true, "enqueued": true, "runId": cron_run_id,
            "agentRunId": run_id, "processInstanceId": pid})),
        Err(FireError::AlreadyRunning) => Ok(not_ran("already-running")),
        Err(FireError::Op(e)) => Err(e),
    }
}

fn run_entry(r: &SchedRunRow) -> Value {
    let mut v = json!({
        "ts": r.finished_at.unwrap_or(r.started_at), "jobId": r.job_id, "action": "finished",
        "runId": r.run_id, "cronRunId": r.cron_run_id, "sessionKey": r.session_key,
        "runAtMs": r.started_at, "dueAtMs": r.due_at, "durationMs": r.duration_ms,
        "attempt": r.attempt, "trigger": r.trigger,
    });
    match r.status.as_deref() {
        Some(s) => {
            v["status"] = json!(s);
            v["completionStatus"] = json!(match s {
                "ok" => "succeeded",
                "error" => "failed",
                _ => "unknown",
            });
        }
        None => {
            v["action"] = json!("started");
            v["completionStatus"] = json!("unknown");
        }
    }
    if let Some(e) = &r.error {
        v["error"] = json!(e);
    }
    v
}

pub async fn runs(engine: &Engine, p: &P) -> Result<Value> {
    let m = "cron.runs";
    let id = job_id(m, p).ok();
    if let Some(i) = &id {
        if i.contains('/') || i.contains('\\') {
            return Err(Error::invalid(
                "invalid cron.runs params: id must not contain / or \\",
            ));
        }
    }
    let run_id = p.get("runId").and_then(Value::as_str).map(str::to_string);
    let limit = int(m, p, "limit", 1, 200)?.unwrap_or(50);
    let offset = int(m, p, "offset", 0, i64::MAX)?.unwrap_or(0);
    let (j, r) = (id.clone(), run_id.clone());
    let (rows, total) = engine
        .store()
        .read_async(move |s| s.sched_runs_list(j.as_deref(), r.as_deref(), limit, offset))
        .await?;
    if let (Some(i), 0) = (&id, total) {
        load(engine, i).await?;
    }
    let has_more = offset + (rows.len() as i64) < total;
    Ok(json!({
        "entries": rows.iter().map(run_entry).collect::<Vec<_>>(), "total": total,
        "offset": offset, "limit": limit, "hasMore": has_more,
        "nextOffset": if has_more { json!(offset + limit) } else { Value::Null },
    }))
}

fn dlq_view(r: &DlqRow) -> Value {
    json!({"id": r.id, "jobId": r.job_id, "runId": r.run_id, "error": r.error,
        "attempts": r.attempts, "failedAtMs": r.failed_at, "dueAtMs": r.due_at,
        "status": r.status, "resolvedAtMs": r.resolved_at})
}

pub async fn dlq_list(engine: &Engine, p: &P) -> Result<Value> {
    let all = p
        .get("includeResolved")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let limit = int("cron.dlq.list", p, "limit", 1, 1000)?.unwrap_or(200);
    let rows = engine
        .store()
        .read_async(move |s| s.sched_dlq_list(all, limit))
        .await?;
    Ok(json!({"items": rows.iter().map(dlq_view).collect::<Vec<_>>()}))
}

fn dlq_id(method: &str, p: &P) -> Result<String> {
    p.get("id")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            Error::invalid(format!(
                "invalid {method} params: id (a DLQ item id) is required"
            ))
        })
}

fn dlq_not_found(id: &str) -> Error {
    Error::not_found(format!(
        "dead-letter item not found: {id} (open items: cron.dlq.list)"
    ))
}

/// Replays the item once with the job's current definition; the outcome arrives as a `cron`
/// event (a success resolves the item, a failure reopens it).
pub async fn dlq_replay(engine: &Arc<Engine>, p: &P) -> Result<Value> {
    let id = dlq_id("cron.dlq.replay", p)?;
    let (i2, now) = (id.clone(), engine.now_ms());
    let item = engine
        .store()
        .read_async(move |s| s.sched_dlq_get(&i2))
        .await?
        .ok_or_else(|| dlq_not_found(&id))?;
    if item.status != "open" {
        return Err(Error::conflict(format!(
            "dead-letter item {id} is {}: only open items can be replayed",
            item.status
        )));
    }
    let row = load(engine, &item.job_id).await?;
    let def = parse_def(&row)?;
    let i2 = id.clone();
    if !engine
        .store()
        .write_async(move |s| s.sched_dlq_transition(&i2, &["open"], "replaying", now))
        .await?
    {
        return Err(Error::conflict(format!(
            "dead-letter item {id} is no longer open"
        )));
    }
    let mut a = Attempt::new(item.due_at, item.attempts + 1, "replay", item.counted);
    a.dlq_id = Some(id.clone());
    match fire(engine, &item.job_id, &def, a).await {
        Ok((cron_run_id, run_id)) => Ok(json!({"ok": true, "replayed": true, "id": id,
            "runId": cron_run_id, "agentRunId": run_id})),
        Err(e) => {
            let i2 = id.clone();
            let _ = engine
                .store()
                .write_async(move |s| s.sched_dlq_transition(&i2, &["replaying"], "open", now))
                .await;
            Err(e.into())
        }
    }
}

pub async fn dlq_discard(engine: &Engine, who: &str, p: &P) -> Result<Value> {
    let id = dlq_id("cron.dlq.discard", p)?;
    let (i2, now) = (id.clone(), engine.now_ms());
    if !engine
        .store()
        .write_async(move |s| s.sched_dlq_transition(&i2, &["open"], "discarded", now))
        .await?
    {
        return Err(dlq_not_found(&id));
    }
    crate::audit::record(engine, "scheduler.dlq_discard", who, Some(&id), json!({})).await;
    Ok(json!({"ok": true, "discarded": true, "id": id}))
}

/// The next fire times of a schedule (`{schedule}` or `{expr, tz}`), for the UI as it types.
pub fn preview(engine: &Engine, p: &P) -> Result<Value> {
    let m = "cron.preview";
    let count = int(m, p, "count", 1, 20)?.unwrap_or(5) as usize;
    let schedule_v = match p.get("schedule") {
        Some(v) if v.is_object() => v.clone(),
        _ => {
            let mut v = json!({"kind": p.get("kind").and_then(Value::as_str).unwrap_or("cron")});
            for k in ["expr", "tz", "everyMs", "at", "atMs"] {
                if let Some(x) = p.get(k) {
                    v[k] = x.clone();
                }
            }
            v
        }
    };
    let now = engine.now_ms();
    let s = Schedule::parse(m, &schedule_v, None)?;
    let times = s.preview(now - 1, count);
    Ok(
        json!({"ok": true, "schedule": s.to_json(), "nextRunsAtMs": times,
        "nextRuns": times.iter().map(|t| iso(*t)).collect::<Vec<_>>()}),
    )
}
