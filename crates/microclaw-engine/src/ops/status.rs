//! `health` and `status`: what an operator checks first.

use crate::engine::Engine;
use microclaw_core::{Result, VERSION};
use serde_json::{json, Value};

pub fn health(engine: &Engine) -> Result<Value> {
    Ok(json!({
        "ok": true,
        "version": VERSION,
        "uptimeMs": engine.uptime_ms(),
        "sessions": {"count": engine.session_count()?},
        "activeRuns": engine.runs().active_runs(),
        "connections": engine.presence().count(),
    }))
}

pub fn status(engine: &Engine) -> Result<Value> {
    let recent: Vec<Value> = engine
        .store()
        .sessions_recent(5)?
        .iter()
        .map(|r| json!({"key": r.key, "label": r.label, "updatedAt": r.updated_at, "messageCount": r.message_count}))
        .collect();
    let check = crate::self_check::run(engine)?;
    Ok(json!({
        "ok": true,
        "version": VERSION,
        "uptimeMs": engine.uptime_ms(),
        "sessions": {"count": engine.session_count()?, "recent": recent},
        "activeRuns": engine.runs().active_runs(),
        "connections": engine.presence().count(),
        "slo": engine.metrics_engine().slo_brief(),
        "risk_level": check.risk_level,
    }))
}
