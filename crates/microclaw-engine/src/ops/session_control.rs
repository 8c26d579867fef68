//! OpenClaw's session controls beside MicroClaw's: `sessions.abort` (its result shape),
//! `chat.inject` (an assistant message without a run) and the control action `monitor`.

use crate::engine::Engine;
use crate::events::EngineEvent;
use microclaw_agent::{ChatEvent, ChatState};
use microclaw_core::{normalize_session_key, Error, Result};
use std::sync::Arc;

/// `sessions.abort`'s answer: `{ok, abortedRunId, status:"aborted"|"no-active-run"}`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AbortResult {
    pub ok: bool,
    pub aborted_run_id: Option<String>,
    pub status: &'static str,
}

/// Aborts the session's active run (with `key`), or the run `run_id` (with or without `key`:
/// alone, its session is looked up among the active runs). A run id that maps to no run is
/// `no-active-run`, not an error.
pub fn abort(engine: &Engine, key: Option<&str>, run_id: Option<&str>) -> Result<AbortResult> {
    let run_id = run_id.map(str::trim).filter(|r| !r.is_empty());
    let key = match (key.map(str::trim).filter(|k| !k.is_empty()), run_id) {
        (Some(k), _) => Some(normalize_session_key(Some(k))?),
        (None, Some(id)) => engine
            .runs()
            .active_list()
            .into_iter()
            .find(|r| r.run_id == id)
            .map(|r| r.session_key),
        (None, None) => {
            return Err(Error::invalid(
                "key or runId is required: expected the session key or the run to abort",
            ))
        }
    };
    let aborted = match &key {
        Some(k) => engine.runs().abort(k, run_id),
        None => Vec::new(),
    };
    if let (Some(k), false) = (&key, aborted.is_empty()) {
        engine.emit(EngineEvent::SessionsChanged {
            key: k.clone(),
            reason: "updated",
            row: None,
        });
    }
    let first = aborted.into_iter().next();
    Ok(AbortResult {
        ok: true,
        status: if first.is_some() {
            "aborted"
        } else {
            "no-active-run"
        },
        aborted_run_id: first,
    })
}

/// Longest injected message (the same bound as a user message).
pub const MAX_INJECT_BYTES: usize = crate::ops::chat::MAX_MESSAGE_BYTES;

/// `chat.inject`: appends an assistant message to an existing session (never creates one) and
/// announces it as a `chat` final with run id `inject-<messageId>`. Returns the message id.
pub async fn inject(engine: &Engine, key: Option<&str>, message: &str) -> Result<i64> {
    let key = normalize_session_key(key)?;
    if message.trim().is_empty() {
        return Err(Error::invalid(
            "message is empty: expected a non-empty string",
        ));
    }
    if message.len() > MAX_INJECT_BYTES {
        return Err(Error::invalid(format!(
            "message is {} bytes: expected at most {MAX_INJECT_BYTES}",
            message.len()
        )));
    }
    let (k, text, now) = (key.clone(), message.to_string(), engine.now_ms());
    let row = engine
        .store()
        .write_async(move |s| s.message_append_existing(&k, "assistant", &text, now))
        .await?
        .ok_or_else(|| Error::invalid("session not found"))?;
    let text: Arc<str> = Arc::from(message);
    engine.runs().publish(ChatEvent {
        run_id: format!("inject-{}", row.id),
        session_key: key.clone(),
        seq: 0,
        state: ChatState::Final,
        delta: None,
        text_len: text.len(),
        text: Some(text),
        error_message: None,
        stop_reason: None,
        usage: None,
    });
    engine.emit(EngineEvent::SessionsChanged {
        key,
        reason: "updated",
        row: None,
    });
    Ok(row.id)
}

/// The control action `monitor` (Mission Control): acknowledged, and the session is marked
/// watched (`watched` in the OpenClaw mirror's entry); a new watch is a `sessions.changed`.
pub fn monitor(engine: &Engine, key: &str) -> Result<serde_json::Value> {
    let (since, new) = engine.watched_sessions().watch(key, engine.now_ms())?;
    if new {
        engine.emit(EngineEvent::SessionsChanged {
            key: key.to_string(),
            reason: "updated",
            row: None,
        });
    }
    Ok(serde_json::json!({
        "ok": true, "action": "monitor", "applied": true, "key": key, "sessionKey": key,
        "watched": true, "watchedSince": since,
    }))
}

/// The session's current generation (`sessionId`), for results that report it (`sessions.send`
/// after its run was placed: the session exists then). None for an unknown session.
pub async fn current_session_id(engine: &Engine, key: &str) -> Result<Option<String>> {
    let k = key.to_string();
    Ok(engine
        .store()
        .read_async(move |s| s.session_get(&k))
        .await?
        .map(|row| row.session_id))
}
