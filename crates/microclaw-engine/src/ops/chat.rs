//! Run operations: send a message, spawn a task session, abort, kill, control, wait.

use crate::audit::{self, kind};
use crate::engine::Engine;
use crate::events::EngineEvent;
use crate::principal::Principal;
use microclaw_agent::{RunOutcome, StartOutcome, StartRun};
use microclaw_core::{normalize_session_key, Error, Result};
use microclaw_store::SessionPatch;
use serde_json::{json, Value};

pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

pub(crate) fn check_message(message: &str) -> Result<()> {
    if message.trim().is_empty() {
        return Err(Error::invalid(
            "message is empty: expected a non-empty string",
        ));
    }
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(Error::invalid(format!(
            "message is {} bytes: expected at most {MAX_MESSAGE_BYTES}",
            message.len()
        )));
    }
    Ok(())
}

/// Starts a run in `key` (creating the session when new). The returned outcome holds the
/// run's release gate: the caller sends its response first, then releases the events.
///
/// `queue_mode` (OpenClaw's `queueMode`): `followup` (default) waits behind the session's
/// active run, `interrupt` aborts it first; `steer` and `collect` behave as `followup`.
pub async fn send(
    engine: &Engine,
    key: Option<&str>,
    message: &str,
    idempotency_key: Option<&str>,
    queue_mode: Option<&str>,
) -> Result<(String, StartOutcome)> {
    let key = normalize_session_key(key)?;
    let queue_mode = queue_mode
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(microclaw_agent::QueueMode::parse)
        .transpose()?;
    check_message(message)?;
    // The registry reports `sessions.changed` (created/updated) when the run's message is
    // stored (a queued message is stored when its run starts).
    let outcome = engine
        .runs()
        .start(StartRun {
            session_key: key.clone(),
            message: message.to_string(),
            idempotency_key: idempotency_key
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string),
            timeout_secs: None,
            agent_id: None,
            queue_mode,
        })
        .await?;
    Ok((key, outcome))
}

/// Sends and waits for the run to end (HTTP `POST /api/send`).
pub async fn send_and_wait(
    engine: &Engine,
    key: Option<&str>,
    message: &str,
) -> Result<(String, String, RunOutcome)> {
    let (key, mut outcome) = send(engine, key, message, None, None).await?;
    let run_id = outcome.run_id.clone();
    outcome.release();
    let result = engine
        .runs()
        .wait(&run_id)
        .await
        .ok_or_else(|| Error::internal(format!("run {run_id} vanished before it ended")))?;
    Ok((key, run_id, result))
}

/// What `sessions.spawn` started.
#[derive(Debug)]
pub struct Spawned {
    pub key: String,
    pub label: Option<String>,
    pub model: String,
    pub run_timeout_seconds: Option<u64>,
    /// The new session's generation (`sessionId`).
    pub session_id: Option<String>,
    /// Holds the run's release gate (see [`send`]).
    pub outcome: StartOutcome,
}

/// `sessions.spawn`: a new `spawn:<hex>` session running `task`.
pub async fn spawn(
    engine: &Engine,
    task: &str,
    label: Option<&str>,
    model: Option<&str>,
    run_timeout_seconds: Option<u64>,
) -> Result<Spawned> {
    check_message(task)?;
    let agent_id = match model.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => Some(engine.runs().agents().resolve(Some(m))?.id().to_string()),
        None => None,
    };
    let key = format!("spawn:{}", uuid::Uuid::new_v4().simple());
    let label = label
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string);
    let patch = SessionPatch {
        label: Some(label.clone()),
        agent_id: Some(agent_id.clone()),
        ..Default::default()
    };
    let (k, now) = (key.clone(), engine.now_ms());
    let session_id = engine
        .store()
        .write_async(move |s| s.session_patch(&k, &patch, true, now))
        .await?
        .map(|(row, _)| row.session_id);
    let timeout = run_timeout_seconds.or(match engine.config().sessions.run_timeout_seconds {
        0 => None,
        s => Some(s),
    });
    engine.emit(EngineEvent::SessionsChanged {
        key: key.clone(),
        reason: "created",
        row: None,
    });
    let outcome = engine
        .runs()
        .start(StartRun {
            session_key: key.clone(),
            message: task.to_string(),
            idempotency_key: None,
            timeout_secs: timeout,
            agent_id: agent_id.clone(),
            queue_mode: None,
        })
        .await?;
    let model_name = engine
        .runs()
        .agents()
        .resolve(agent_id.as_deref())?
        .model()
        .to_string();
    Ok(Spawned {
        key,
        label,
        model: model_name,
        run_timeout_seconds: timeout,
        session_id,
        outcome,
    })
}

/// Aborts the session's runs (or one run); returns the aborted run ids.
pub fn abort(
    engine: &Engine,
    key: Option<&str>,
    run_id: Option<&str>,
) -> Result<(String, Vec<String>)> {
    let key = normalize_session_key(key)?;
    let ids = engine
        .runs()
        .abort(&key, run_id.map(str::trim).filter(|r| !r.is_empty()));
    Ok((key, ids))
}

/// Kills every active run of the session.
pub async fn kill(engine: &Engine, who: &Principal, key: Option<&str>) -> Result<(String, usize)> {
    let key = normalize_session_key(key)?;
    let n = engine.runs().kill(&key);
    audit::record_by(
        engine,
        who,
        kind::SESSION_KILLED,
        Some(&key),
        json!({"aborted": n}),
    )
    .await;
    Ok((key, n))
}

/// A `{type:"control", action}` message: abort, pause or resume, enforced; `monitor` marks
/// the session watched (Mission Control's control).
pub fn control(engine: &Engine, key: Option<&str>, message: &Value) -> Result<Value> {
    let key = normalize_session_key(key)?;
    let action = message
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (applied, reason) = match action.as_str() {
        "abort" => {
            let n = engine.runs().abort(&key, None).len();
            (n > 0, if n == 0 { Some("no active run") } else { None })
        }
        "pause" => (engine.runs().pause(&key), None),
        "resume" => {
            let was = engine.runs().resume(&key);
            (was, if was { None } else { Some("session was not paused") })
        }
        "monitor" => return crate::ops::session_control::monitor(engine, &key),
        other => {
            return Err(Error::invalid(format!(
                "invalid sessions.send params: control action '{other}': expected one of abort, pause, resume, monitor"
            )))
        }
    };
    let mut out =
        json!({"ok": true, "action": action, "applied": applied, "key": key, "sessionKey": key});
    if let Some(r) = reason {
        out["reason"] = json!(r);
    }
    Ok(out)
}
