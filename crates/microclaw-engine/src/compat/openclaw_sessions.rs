//! Session rows in the shapes OpenClaw tools read: the entries of
//! `agents/<agent>/sessions/sessions.json` (keyed by session key) and the live rows of
//! Mission Control's `tick.snapshot.sessions[]`. No message text and no credential goes in
//! either: only keys, labels, times, the model and counts.

use super::session_usage::SessionUsage;
use crate::Engine;
use microclaw_store::SessionRow;
use serde_json::{json, Map, Value};

/// Our sessions are operator chats (OpenClaw's control UI calls its channel `webchat`).
pub const CHANNEL: &str = "webchat";
pub const CHAT_TYPE: &str = "direct";

/// The model a session runs on: the last run's, else its agent's.
pub fn model_of(engine: &Engine, row: &SessionRow, usage: &SessionUsage) -> String {
    if let Some(m) = &usage.model {
        return m.clone();
    }
    match engine.runs().agents().resolve(row.agent_id.as_deref()) {
        Ok(agent) => agent.model().to_string(),
        Err(_) => row.agent_id.clone().unwrap_or_default(),
    }
}

/// One `sessions.json` entry; `watched_since` when the session is watched (`monitor`).
pub fn store_entry(
    engine: &Engine,
    row: &SessionRow,
    usage: &SessionUsage,
    watched_since: Option<i64>,
) -> Value {
    let mut e = Map::new();
    e.insert("sessionId".into(), json!(row.session_id));
    e.insert("updatedAt".into(), json!(row.updated_at));
    e.insert("createdAt".into(), json!(row.created_at));
    e.insert("chatType".into(), json!(CHAT_TYPE));
    e.insert("channel".into(), json!(CHANNEL));
    e.insert("lastChannel".into(), json!(CHANNEL));
    e.insert("model".into(), json!(model_of(engine, row, usage)));
    if let Some(p) = &usage.provider {
        e.insert("modelProvider".into(), json!(p));
    }
    e.insert("inputTokens".into(), json!(usage.input_tokens));
    e.insert("outputTokens".into(), json!(usage.output_tokens));
    e.insert("totalTokens".into(), json!(usage.total_tokens()));
    e.insert("contextTokens".into(), json!(usage.context_tokens));
    e.insert("estimatedCostUsd".into(), json!(usage.cost_usd));
    e.insert("messageCount".into(), json!(row.message_count));
    if let Some(label) = &row.label {
        e.insert("label".into(), json!(label));
        e.insert("displayName".into(), json!(label));
    }
    if let Some(parent) = &row.parent_key {
        e.insert("parentKey".into(), json!(parent));
    }
    if let Some(since) = watched_since {
        e.insert("watched".into(), json!(true));
        e.insert("watchedSince".into(), json!(since));
    }
    Value::Object(e)
}

/// The whole `sessions.json` object for `rows`.
pub fn store_file(engine: &Engine, rows: &[SessionRow]) -> Value {
    let (book, watched) = (engine.session_usage(), engine.watched_sessions());
    let mut out = Map::new();
    for row in rows {
        let usage = book.get(&row.key, &row.session_id);
        let entry = store_entry(engine, row, &usage, watched.since(&row.key));
        out.insert(row.key.clone(), entry);
    }
    Value::Object(out)
}

/// One `tick.snapshot.sessions[]` row.
pub fn tick_row(engine: &Engine, row: &SessionRow, usage: &SessionUsage) -> Value {
    json!({
        "key": row.key,
        "kind": CHAT_TYPE,
        "updatedAt": row.updated_at,
        "model": model_of(engine, row, usage),
        "totalTokens": usage.total_tokens(),
        "contextTokens": usage.context_tokens,
        "messageCount": row.message_count,
        "cost": usage.cost_usd,
    })
}

/// Counts read back from an earlier `sessions.json` entry (after a restart).
pub fn usage_from_entry(entry: &Value) -> Option<SessionUsage> {
    let n = |k: &str| entry.get(k).and_then(Value::as_u64).unwrap_or(0);
    let s = |k: &str| entry.get(k).and_then(Value::as_str).map(str::to_string);
    Some(SessionUsage {
        session_id: s("sessionId")?,
        input_tokens: n("inputTokens"),
        output_tokens: n("outputTokens"),
        context_tokens: n("contextTokens"),
        model: s("model"),
        provider: s("modelProvider"),
        cost_usd: entry
            .get("estimatedCostUsd")
            .and_then(Value::as_f64)
            .filter(|c| c.is_finite() && *c >= 0.0)
            .unwrap_or(0.0),
        updated_at: entry.get("updatedAt").and_then(Value::as_i64).unwrap_or(0),
    })
}
