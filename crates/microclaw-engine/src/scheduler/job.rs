//! A job's definition (what `cron.add` normalizes and stores), its state (what the loop
//! keeps), and the OpenClaw read view built from both.

use super::schedule::{iso, Schedule};
use microclaw_core::{Error, Result};
use microclaw_store::scheduler_jobs::SchedJobRow;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// OpenClaw's retry ladder (the first step is replaced by `retry.backoffMs`, then doubling).
pub const DEFAULT_LADDER_MS: [i64; 5] = [30_000, 60_000, 300_000, 900_000, 3_600_000];
pub const DEFAULT_MAX_ATTEMPTS: i64 = 3;
pub const MAX_ATTEMPTS_LIMIT: i64 = 10;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JobDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub schedule: Value,
    /// The message sent on each run.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// The session the message goes to; None with `isolated` → a new session per run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    pub session_target: String,
    pub max_attempts: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_ms: Option<i64>,
    /// `once` | `skip` | `all`.
    pub catch_up: String,
    pub delete_after_run: bool,
}

/// A pending retry of a due run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PendingRetry {
    pub due_at_ms: i64,
    pub attempt: i64,
    pub at_ms: i64,
    pub counted: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct JobState {
    pub last_run_at_ms: Option<i64>,
    pub last_run_status: Option<String>,
    pub last_error: Option<String>,
    pub last_duration_ms: Option<i64>,
    pub consecutive_errors: i64,
    pub retry: Option<PendingRetry>,
    /// Missed fire times still to run (`catchUp: "all"`), oldest first, bounded.
    pub backlog: Vec<i64>,
    /// A config revision counter for CAS updates.
    pub revision: i64,
}

impl JobDef {
    pub fn schedule(&self) -> Result<Schedule> {
        Schedule::parse("cron job", &self.schedule, None)
    }

    /// The retry delay after failed attempt `attempt` (1-based).
    pub fn backoff_after(&self, attempt: i64) -> i64 {
        let i = (attempt - 1).clamp(0, 30);
        match self.backoff_ms {
            Some(b) => b
                .saturating_mul(1_i64 << i.min(20))
                .min(DEFAULT_LADDER_MS[4] * 24),
            None => DEFAULT_LADDER_MS[(i as usize).min(DEFAULT_LADDER_MS.len() - 1)],
        }
    }
}

pub fn parse_state(row: &SchedJobRow) -> JobState {
    serde_json::from_str(&row.state).unwrap_or_default()
}

pub fn parse_def(row: &SchedJobRow) -> Result<JobDef> {
    serde_json::from_str(&row.job)
        .map_err(|e| Error::internal(format!("stored cron job {} is unreadable: {e}", row.id)))
}

fn opt_str(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The OpenClaw job read view (`openclaw-methods.md` §4.1) plus our `retry` and `catchUp`.
pub fn read_view(row: &SchedJobRow, running_at: Option<i64>) -> Value {
    let def = parse_def(row).ok();
    let st = parse_state(row);
    let Some(def) = def else {
        return json!({"id": row.id, "name": row.id, "enabled": false, "error": "unreadable job"});
    };
    let mut payload = json!({"kind": "agentTurn", "message": def.message});
    if let Some(t) = def.timeout_seconds {
        payload["timeoutSeconds"] = json!(t);
    }
    let mut retry = json!({"maxAttempts": def.max_attempts});
    if let Some(b) = def.backoff_ms {
        retry["backoffMs"] = json!(b);
    }
    let mut state = json!({
        "nextRunAtMs": row.next_run_at,
        "lastRunAtMs": st.last_run_at_ms,
        "lastRunStatus": st.last_run_status,
        "lastStatus": st.last_run_status,
        "lastError": st.last_error,
        "lastDurationMs": st.last_duration_ms,
        "consecutiveErrors": st.consecutive_errors,
    });
    if let Some(r) = &st.retry {
        state["nextRetryAtMs"] = json!(r.at_ms);
        state["retryAttempt"] = json!(r.attempt);
    }
    if let Some(t) = running_at {
        state["runningAtMs"] = json!(t);
    }
    let mut v = json!({
        "id": row.id,
        "name": def.name,
        "enabled": row.enabled,
        "deleteAfterRun": def.delete_after_run,
        "createdAtMs": row.created_at,
        "updatedAtMs": row.updated_at,
        "configRevision": st.revision.to_string(),
        "schedule": def.schedule,
        "sessionTarget": def.session_target,
        "wakeMode": "now",
        "payload": payload,
        "retry": retry,
        "catchUp": def.catch_up,
        "state": state,
        "nextRunAtMs": row.next_run_at,
        "nextRunAt": row.next_run_at.map(iso),
        "lastRunAtMs": st.last_run_at_ms,
        "lastRunStatus": st.last_run_status,
        "lastRunError": st.last_error,
    });
    if let Some(d) = &def.description {
        v["description"] = json!(d);
    }
    if let Some(a) = &def.agent_id {
        v["agentId"] = json!(a);
    }
    if let Some(k) = &def.session_key {
        v["sessionKey"] = json!(k);
    }
    v
}

/// Builds a definition from `cron.add` params (or a merged update), normalizing first.
/// `now` checks an `at` time against the present (None: a stored schedule, not re-checked).
pub fn def_from_params(method: &str, p: &Map<String, Value>, now: Option<i64>) -> Result<JobDef> {
    let bad = |why: String| Error::invalid(format!("invalid {method} params: {why}"));
    let schedule_v = p.get("schedule").filter(|v| !v.is_null()).ok_or_else(|| {
        bad("schedule is required: expected {kind:\"cron\"|\"every\"|\"at\", …}".into())
    })?;
    let schedule = Schedule::parse(method, schedule_v, now)?;
    let payload = p
        .get("payload")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("payload is required: expected {kind:\"agentTurn\", message}".into()))?;
    let pkind = opt_str(payload, "kind").unwrap_or_else(|| "agentTurn".into());
    let message = match pkind.to_ascii_lowercase().as_str() {
        "agentturn" => opt_str(payload, "message"),
        "systemevent" => opt_str(payload, "text"),
        _ => {
            return Err(bad(format!(
                "payload.kind '{pkind}' is not supported: expected agentTurn (or systemEvent)"
            )))
        }
    }
    .ok_or_else(|| bad("payload.message is required: expected a non-empty string".into()))?;
    crate::ops::chat::check_message(&message).map_err(|e| bad(format!("payload.{}", e.message)))?;
    let timeout_seconds = match payload.get("timeoutSeconds") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| bad("payload.timeoutSeconds must be an integer ≥ 0".into()))?,
        ),
    }
    .filter(|t| *t > 0);
    let mut session_key = opt_str(p, "sessionKey");
    let target = opt_str(p, "sessionTarget").unwrap_or_default();
    let session_target = match target.as_str() {
        "" | "current" | "main" => {
            if target == "main" && session_key.is_none() {
                session_key = Some("main".into());
            }
            if session_key.is_some() {
                "current"
            } else {
                session_key = Some("main".into());
                "main"
            }
        }
        "isolated" => {
            session_key = None;
            "isolated"
        }
        t if t.starts_with("session:") && t.len() > 8 => {
            session_key = Some(t["session:".len()..].to_string());
            "current"
        }
        other => {
            return Err(bad(format!(
                "sessionTarget '{other}' is not supported: expected main, isolated, current or session:<key>"
            )))
        }
    }
    .to_string();
    if let Some(k) = &session_key {
        microclaw_core::normalize_session_key(Some(k)).map_err(|e| bad(e.message))?;
    }
    let retry = p.get("retry").and_then(Value::as_object);
    let ri = |key: &str| -> Result<Option<i64>> {
        match retry.and_then(|r| r.get(key)) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .map(Some)
                .ok_or_else(|| bad(format!("retry.{key} must be an integer"))),
        }
    };
    let max_attempts = ri("maxAttempts")?.unwrap_or(DEFAULT_MAX_ATTEMPTS);
    if !(1..=MAX_ATTEMPTS_LIMIT).contains(&max_attempts) {
        return Err(bad(format!(
            "retry.maxAttempts {max_attempts} is out of range: expected 1..={MAX_ATTEMPTS_LIMIT}"
        )));
    }
    let backoff_ms = ri("backoffMs")?;
    if backoff_ms.is_some_and(|b| !(1000..=86_400_000).contains(&b)) {
        return Err(bad(
            "retry.backoffMs is out of range: expected 1000..=86400000".into(),
        ));
    }
    let catch_up = opt_str(p, "catchUp")
        .unwrap_or_else(|| "once".into())
        .to_ascii_lowercase();
    if !matches!(catch_up.as_str(), "once" | "skip" | "all") {
        return Err(bad(format!(
            "catchUp '{catch_up}' is not supported: expected once, skip or all"
        )));
    }
    let delete_after_run = match p.get("deleteAfterRun") {
        Some(Value::Bool(b)) => *b,
        _ => matches!(schedule, Schedule::At { .. }),
    };
    let name = opt_str(p, "name").unwrap_or_else(|| {
        let short: String = message.chars().take(40).collect();
        format!("{} · {short}", schedule.kind())
    });
    Ok(JobDef {
        name,
        description: opt_str(p, "description"),
        schedule: schedule.to_json(),
        message,
        timeout_seconds,
        agent_id: opt_str(p, "agentId"),
        session_key,
        session_target,
        max_attempts,
        backoff_ms,
        catch_up,
        delete_after_run,
    })
}

/// `enabled` with OpenClaw's normalizer: booleans and boolean-like strings.
pub fn parse_enabled(method: &str, v: Option<&Value>) -> Result<Option<bool>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if matches!(s.trim(), "true" | "1" | "yes") => Ok(Some(true)),
        Some(Value::String(s)) if matches!(s.trim(), "false" | "0" | "no") => Ok(Some(false)),
        Some(_) => Err(Error::invalid(format!(
            "invalid {method} params: enabled must be a boolean"
        ))),
    }
}

/// The definition as add-style params (for merging an update patch over it).
pub fn def_to_params(def: &JobDef) -> Map<String, Value> {
    let mut payload = json!({"kind": "agentTurn", "message": def.message});
    if let Some(t) = def.timeout_seconds {
        payload["timeoutSeconds"] = json!(t);
    }
    let mut retry = json!({"maxAttempts": def.max_attempts});
    if let Some(b) = def.backoff_ms {
        retry["backoffMs"] = json!(b);
    }
    let mut m = Map::new();
    m.insert("name".into(), json!(def.name));
    if let Some(d) = &def.description {
        m.insert("description".into(), json!(d));
    }
    m.insert("schedule".into(), def.schedule.clone());
    m.insert("payload".into(), payload);
    if let Some(a) = &def.agent_id {
        m.insert("agentId".into(), json!(a));
    }
    if def.session_target == "isolated" {
        m.insert("sessionTarget".into(), json!("isolated"));
    } else if let Some(k) = &def.session_key {
        m.insert("sessionKey".into(), json!(k));
    }
    m.insert("retry".into(), retry);
    m.insert("catchUp".into(), json!(def.catch_up));
    m.insert("deleteAfterRun".into(), json!(def.delete_after_run));
    m
}
