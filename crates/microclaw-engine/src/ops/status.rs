//! `health` and `status`: what an operator checks first.

use crate::engine::Engine;
use microclaw_core::{Result, VERSION};
use serde_json::{json, Value};

/// Memory only (counters kept by the store and the run registry): never waits on SQLite.
pub fn health(engine: &Engine) -> Result<Value> {
    Ok(json!({
        "ok": true,
        "version": VERSION,
        "uptimeMs": engine.uptime_ms(),
        "sessions": {"count": engine.session_count()},
        "activeRuns": engine.runs().active_runs(),
        "connections": engine.presence().count(),
    }))
}

pub async fn status(engine: &Engine) -> Result<Value> {
    let (recent, check) = engine
        .blocking_read(|e| {
            let recent = e.store().sessions_recent(5)?;
            let check = crate::self_check::run(e)?;
            Ok((recent, check))
        })
        .await?;
    let recent: Vec<Value> = recent
        .iter()
        .map(|r| json!({"key": r.key, "label": r.label, "updatedAt": r.updated_at, "messageCount": r.message_count}))
        .collect();
    Ok(json!({
        "ok": true,
        "version": VERSION,
        "uptimeMs": engine.uptime_ms(),
        "sessions": {"count": engine.session_count(), "recent": recent},
        "activeRuns": engine.runs().active_runs(),
        "connections": engine.presence().count(),
        "slo": engine.metrics_engine().slo_brief_async().await,
        "risk_level": check.risk_level,
    }))
}
