//! OpenClaw's `agent` and `agent.wait` (openclaw-methods.md §1): an ordinary run (the
//! registry's per-session queue, chat events, metrics) whose run id is the caller's
//! `idempotencyKey`, acknowledged at once and answered again with a final result when it
//! ends; `/new` and `/reset` reset the session instead. The transport checks scopes (admin
//! for the reset commands); this module checks the params and builds the payloads.

use crate::engine::Engine;
use crate::events::EngineEvent;
use crate::principal::Principal;
use microclaw_agent::{
    ChatState, RunLookup, RunOptions, RunOutcome, StartOutcome, StartRun, StopReason,
};
use microclaw_core::{normalize_session_key, Error, Result, Scope, ThinkingLevel};
use microclaw_store::SessionPatch;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// Longest `idempotencyKey` (it becomes the run id).
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 256;
/// `agent.wait` default `timeoutMs`.
pub const DEFAULT_WAIT_MS: u64 = 30_000;

/// The `agent` params this gateway reads (the rest are ignored).
#[derive(Debug, Default, Clone)]
pub struct AgentParams<'a> {
    pub message: &'a str,
    pub idempotency_key: &'a str,
    pub session_key: Option<&'a str>,
    pub agent_id: Option<&'a str>,
    /// Seconds; 0 or absent → `sessions.run_timeout_seconds`.
    pub timeout_secs: Option<u64>,
    pub thinking: Option<&'a str>,
    pub label: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub model: Option<&'a str>,
}

/// What `agent` answers.
pub enum AgentStart {
    /// Started or queued: send `ack` now, and `final_payload` of the run when it ends. The
    /// outcome holds the run's release gate (drop it after the ack is queued).
    Accepted { ack: Value, outcome: StartOutcome },
    /// A single response (duplicate key, a bare `/new` or `/reset`).
    Done(Value),
}

/// `/new` or `/reset` (case-insensitive), alone or followed by whitespace and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetCommand {
    New,
    Reset,
}

/// The reset command `message` starts with, and the text after it (trimmed).
pub fn reset_command(message: &str) -> Option<(ResetCommand, &str)> {
    let msg = message.trim();
    let (head, rest) = match msg.find(char::is_whitespace) {
        Some(i) => (&msg[..i], msg[i..].trim()),
        None => (msg, ""),
    };
    match head.to_ascii_lowercase().as_str() {
        "/new" => Some((ResetCommand::New, rest)),
        "/reset" => Some((ResetCommand::Reset, rest)),
        _ => None,
    }
}

/// True when the message needs `operator.admin` (OpenClaw's dynamic rule for `agent`).
pub fn needs_admin(message: &str) -> bool {
    reset_command(message).is_some()
}

/// Starts the run (or answers a duplicate key or a reset command at once).
pub async fn start(engine: &Engine, who: &Principal, p: &AgentParams<'_>) -> Result<AgentStart> {
    let run_id = p.idempotency_key.trim();
    if run_id.is_empty() {
        return Err(Error::invalid(
            "idempotencyKey is required: expected a non-empty string (it becomes the runId)",
        ));
    }
    if run_id.len() > MAX_IDEMPOTENCY_KEY_BYTES {
        return Err(Error::invalid(format!(
            "idempotencyKey is {} bytes: expected at most {MAX_IDEMPOTENCY_KEY_BYTES}",
            run_id.len()
        )));
    }
    super::chat::check_message(p.message)?;
    let admin = who.scopes.allows(Scope::Admin);
    if !admin && (p.provider.is_some() || p.model.is_some()) {
        return Err(Error::invalid(
            "provider/model overrides are not authorized for this caller.",
        ));
    }
    let key = normalize_session_key(p.session_key)?;
    if let Some(done) = duplicate(engine, run_id) {
        return Ok(AgentStart::Done(done));
    }
    let mut message = p.message;
    if let Some((cmd, rest)) = reset_command(p.message) {
        let session_id = reset_session(engine, who, &key).await?;
        if rest.is_empty() {
            return Ok(AgentStart::Done(reset_reply(run_id, cmd, &session_id)));
        }
        message = rest;
    }
    let agents = engine.runs().agents();
    let mut agent_id = match p.agent_id.map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => match agents.get(id) {
            Some(a) => Some(a.id().to_string()),
            None => return Err(Error::invalid(format!("unknown agent id \"{id}\""))),
        },
        None => None,
    };
    // An admin's `model`: an agent id or model name picks that agent; anything else is
    // handed to the agent as its model. `provider` is accepted and not used.
    let mut model = p
        .model
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    if let (None, Some(m)) = (&agent_id, &model) {
        if let Ok(a) = agents.resolve(Some(m)) {
            agent_id = Some(a.id().to_string());
            model = None;
        }
    }
    let thinking = p
        .thinking
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(ThinkingLevel::parse)
        .transpose()?;
    let label = check_label(p.label)?;
    let session_agent = prepare_session(engine, &key, label).await?;
    let ack_agent = agent_id
        .clone()
        .or(session_agent)
        .unwrap_or_else(|| agents.default_id().to_string());
    let outcome = engine
        .runs()
        .start_with(
            StartRun {
                session_key: key.clone(),
                message: message.to_string(),
                idempotency_key: Some(run_id.to_string()),
                timeout_secs: p.timeout_secs,
                agent_id,
                queue_mode: None,
            },
            RunOptions {
                run_id: Some(run_id.to_string()),
                thinking,
                model,
            },
        )
        .await?;
    if outcome.existing {
        // Raced with the same key, or an older run of this session used it.
        let id = outcome.run_id.clone();
        return Ok(AgentStart::Done(match duplicate(engine, &id) {
            Some(done) => done,
            None => stored_final(engine, &key, run_id, &id).await?,
        }));
    }
    let ack = json!({"runId": outcome.run_id, "sessionKey": key, "agentId": ack_agent,
                     "status": "accepted", "acceptedAt": engine.now_ms()});
    Ok(AgentStart::Accepted { ack, outcome })
}

/// The second `agent` frame: waits for the run to end.
pub async fn final_of_run(engine: &Engine, run_id: &str) -> Value {
    match engine.runs().wait(run_id).await {
        Some(o) => final_payload(&o),
        None => json!({"runId": run_id, "status": "timeout", "summary": "aborted",
                       "stopReason": "restart", "timeoutPhase": "queue", "providerStarted": false}),
    }
}

/// `agent.wait`: waits up to `timeout_ms` for the run (any run: `agent`, `chat.send`, …).
pub async fn wait(engine: &Engine, run_id: &str, timeout_ms: u64) -> Value {
    let at = engine
        .runs()
        .wait_timeout(run_id, Duration::from_millis(timeout_ms))
        .await;
    match at {
        RunLookup::Finished(o) => {
            let (status, _, stop) = status_of(&o);
            let mut v = json!({"runId": run_id, "status": status,
                               "startedAt": o.started_at, "endedAt": o.ended_at});
            if status != "ok" {
                if let Some(e) = &o.error_message {
                    v["error"] = json!(e);
                }
                if let Some(s) = stop {
                    v["stopReason"] = json!(s);
                }
            }
            v
        }
        RunLookup::Queued => json!({"runId": run_id, "status": "pending",
                                    "timeoutPhase": "queue", "providerStarted": false}),
        RunLookup::Active | RunLookup::Unknown => json!({"runId": run_id, "status": "timeout"}),
    }
}

/// `(status, summary, stopReason)` of a finished run in OpenClaw's terms: an abort is
/// reported as `timeout` too.
fn status_of(o: &RunOutcome) -> (&'static str, &'static str, Option<&'static str>) {
    match (o.state, o.stop_reason) {
        (ChatState::Final | ChatState::Delta, _) => ("ok", "completed", None),
        (ChatState::Error, Some(StopReason::Timeout)) => ("timeout", "aborted", Some("timeout")),
        (ChatState::Error, s) => ("error", "failed", Some(s.map_or("error", |s| s.as_str()))),
        (ChatState::Aborted, _) => ("timeout", "aborted", Some("aborted")),
    }
}

/// The final `agent` payload of a finished run (§1.2).
pub fn final_payload(o: &RunOutcome) -> Value {
    let (status, summary, stop) = status_of(o);
    let started = o.session_id.is_some();
    let mut meta = Map::new();
    meta.insert("durationMs".into(), json!(o.latency_ms));
    if o.state == ChatState::Aborted {
        meta.insert("aborted".into(), json!(true));
    }
    if let Some(s) = stop {
        meta.insert("stopReason".into(), json!(s));
    }
    if status != "ok" {
        if let Some(e) = &o.error_message {
            meta.insert("error".into(), json!(e));
        }
    }
    if let Some(sid) = &o.session_id {
        let mut usage = Map::new();
        for (k, n) in [
            ("input", o.input_tokens),
            ("output", o.output_tokens),
            ("total", o.input_tokens + o.output_tokens),
        ] {
            if n > 0 {
                usage.insert(k.into(), json!(n));
            }
        }
        if let Some(u) = &o.usage {
            usage.insert("costUsd".into(), json!(u.cost_usd));
            usage.insert("estimated".into(), json!(u.estimated));
        }
        meta.insert(
            "agentMeta".into(),
            json!({"sessionId": sid, "provider": o.provider, "model": o.model, "usage": usage}),
        );
    }
    let payloads: Vec<Value> = if o.text.is_empty() {
        Vec::new()
    } else {
        vec![json!({"text": o.text})]
    };
    let mut v = json!({"runId": o.run_id, "status": status, "summary": summary,
                       "result": {"payloads": payloads, "meta": meta}});
    if let Some(s) = stop {
        v["stopReason"] = json!(s);
    }
    if status == "timeout" {
        v["providerStarted"] = json!(started);
        if !started {
            v["timeoutPhase"] = json!("queue");
        }
    }
    v
}

/// A key already used: `in_flight` while its run lives, its final when it ended recently.
fn duplicate(engine: &Engine, run_id: &str) -> Option<Value> {
    match engine.runs().lookup(run_id) {
        RunLookup::Active | RunLookup::Queued => {
            Some(json!({"runId": run_id, "status": "in_flight"}))
        }
        RunLookup::Finished(o) => Some(final_payload(&o)),
        RunLookup::Unknown => None,
    }
}

/// The final of a run only the store remembers (its snapshot expired): status and summary.
async fn stored_final(engine: &Engine, key: &str, idem: &str, run_id: &str) -> Result<Value> {
    let (k, i) = (key.to_string(), idem.to_string());
    let row = engine
        .store()
        .read_async(move |s| s.run_by_idempotency(&k, &i))
        .await?;
    let (status, summary) = match row.as_ref().map(|r| r.state.as_str()) {
        Some("final") => ("ok", "completed"),
        Some("error") => ("error", "failed"),
        Some("aborted") => ("timeout", "aborted"),
        _ => return Ok(json!({"runId": run_id, "status": "in_flight"})),
    };
    Ok(
        json!({"runId": run_id, "status": status, "summary": summary,
              "result": {"payloads": [], "meta": {"durationMs": 0}}}),
    )
}

fn check_label(label: Option<&str>) -> Result<Option<String>> {
    let Some(l) = label.map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    if l.chars().count() > 200 {
        return Err(Error::invalid(
            "label is longer than 200 characters: expected 1 to 200",
        ));
    }
    Ok(Some(l.to_string()))
}

/// Applies `label` (creating the session) and returns the session's stored agent.
async fn prepare_session(
    engine: &Engine,
    key: &str,
    label: Option<String>,
) -> Result<Option<String>> {
    let (k, now) = (key.to_string(), engine.now_ms());
    let Some(label) = label else {
        let row = engine
            .store()
            .read_async(move |s| s.session_get(&k))
            .await?;
        return Ok(row.and_then(|r| r.agent_id));
    };
    let patch = SessionPatch {
        label: Some(Some(label)),
        ..Default::default()
    };
    let patched = engine
        .store()
        .write_async(move |s| s.session_patch(&k, &patch, true, now))
        .await?;
    let Some((row, created)) = patched else {
        return Ok(None);
    };
    engine.emit(EngineEvent::SessionsChanged {
        key: key.to_string(),
        reason: if created { "created" } else { "updated" },
        row: Some(std::sync::Arc::new(row.clone())),
    });
    Ok(row.agent_id)
}

/// Resets the session (a new generation; creates it when missing); returns its `sessionId`.
async fn reset_session(engine: &Engine, who: &Principal, key: &str) -> Result<String> {
    let (_, row) = super::sessions::reset_row(engine, who, Some(key), None).await?;
    if let Some(r) = row {
        return Ok(r.session_id);
    }
    let (k, now) = (key.to_string(), engine.now_ms());
    let created = engine
        .store()
        .write_async(move |s| s.session_patch(&k, &SessionPatch::default(), true, now))
        .await?
        .ok_or_else(|| Error::internal(format!("session '{key}' could not be created")))?;
    engine.emit(EngineEvent::SessionsChanged {
        key: key.to_string(),
        reason: "created",
        row: Some(std::sync::Arc::new(created.0.clone())),
    });
    Ok(created.0.session_id)
}

fn reset_reply(run_id: &str, cmd: ResetCommand, session_id: &str) -> Value {
    let text = match cmd {
        ResetCommand::New => "✅ New session started.",
        ResetCommand::Reset => "✅ Session reset.",
    };
    json!({"runId": run_id, "status": "ok", "summary": "completed",
           "result": {"payloads": [{"text": text, "isStatusNotice": true}],
                      "meta": {"durationMs": 0, "agentMeta": {"sessionId": session_id}}}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_commands_match_case_insensitively_with_optional_text() {
        assert_eq!(reset_command("/new"), Some((ResetCommand::New, "")));
        assert_eq!(reset_command("  /RESET  "), Some((ResetCommand::Reset, "")));
        assert_eq!(
            reset_command("/new  hello there"),
            Some((ResetCommand::New, "hello there"))
        );
        assert_eq!(reset_command("/newer"), None);
        assert_eq!(reset_command("/echo /new"), None);
        assert!(needs_admin("/Reset\tnow") && !needs_admin("reset"));
    }
}
