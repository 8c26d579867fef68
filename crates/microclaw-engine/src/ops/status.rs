//! `health` and `status`: what an operator checks first.
//!
//! Both are summaries of values the engine keeps as the state changes: the session count,
//! active runs and connections are counters in memory; the slow parts of `status` (recent
//! sessions, risk level, SLO brief) come from [`status_cache`](super::status_cache), rebuilt
//! only after a change. [`Health`] and [`Status`] serialize straight to text (the bridge's
//! hot path); [`health`] and [`status`] give the same as a JSON tree.

use super::status_cache::{self, StatusParts};
use crate::engine::Engine;
use microclaw_core::{Result, VERSION};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SessionCount {
    pub count: i64,
}

/// The `health` payload. Fields are declared in the order a JSON object sorts them, so the
/// text is byte-identical to [`health`]'s tree serialized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub active_runs: usize,
    pub connections: usize,
    pub ok: bool,
    pub sessions: SessionCount,
    pub uptime_ms: i64,
    pub version: &'static str,
}

/// Memory only (counters kept by the store and the run registry): never waits on SQLite.
pub fn health_snapshot(engine: &Engine) -> Health {
    health_snapshot_at(engine, engine.now_ms())
}

/// [`health_snapshot`] at `now_ms` on the engine clock (one clock read for a caller that has it).
pub fn health_snapshot_at(engine: &Engine, now_ms: i64) -> Health {
    Health {
        active_runs: engine.runs().active_runs(),
        connections: engine.presence().count(),
        ok: true,
        sessions: SessionCount {
            count: engine.session_count(),
        },
        uptime_ms: engine.uptime_ms_at(now_ms),
        version: VERSION,
    }
}

/// [`health_snapshot`] as JSON text, kept while the snapshot is unchanged: its fields move
/// at most once per millisecond of uptime, so under a load of health checks most calls share
/// one serialization (the text is exactly what serializing that snapshot gives).
pub fn health_raw(engine: &Engine) -> Arc<RawValue> {
    let now = health_snapshot(engine);
    let mut kept = engine.health_text().lock();
    if let Some((at, text)) = &*kept {
        if *at == now {
            return Arc::clone(text);
        }
    }
    let text: Arc<RawValue> = match serde_json::value::to_raw_value(&now) {
        Ok(raw) => Arc::from(raw),
        // Unreachable for this struct (no maps with non-string keys); never panic for it.
        Err(_) => Arc::from(RawValue::from_string("{\"ok\":false}".into()).unwrap_or_default()),
    };
    *kept = Some((now, Arc::clone(&text)));
    text
}

/// The kept `health` text, one per engine (see [`health_raw`]).
pub type HealthText = parking_lot::Mutex<Option<(Health, Arc<RawValue>)>>;

/// [`health_snapshot`] as a JSON tree.
pub fn health(engine: &Engine) -> Result<Value> {
    to_tree(&health_snapshot(engine))
}

#[derive(Debug, Serialize)]
pub struct StatusSessions<'a> {
    pub count: i64,
    pub recent: &'a RawValue,
}

/// The `status` payload (keys in sorted order, like [`Health`]).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status<'a> {
    pub active_runs: usize,
    pub connections: usize,
    pub ok: bool,
    #[serde(rename = "risk_level")]
    pub risk_level: &'a RawValue,
    pub sessions: StatusSessions<'a>,
    pub slo: &'a RawValue,
    pub uptime_ms: i64,
    pub version: &'static str,
}

/// The current counters around cached summary parts; serialize it with [`Status::from`].
pub struct StatusSnapshot {
    health: Health,
    parts: Arc<StatusParts>,
}

impl StatusSnapshot {
    pub fn view(&self) -> Status<'_> {
        let h = &self.health;
        Status {
            active_runs: h.active_runs,
            connections: h.connections,
            ok: true,
            risk_level: &self.parts.risk_level,
            sessions: StatusSessions {
                count: h.sessions.count,
                recent: &self.parts.recent,
            },
            slo: &self.parts.slo,
            uptime_ms: h.uptime_ms,
            version: VERSION,
        }
    }
}

/// `status`: live counters plus the summary parts (rebuilt only after a change).
pub async fn status_snapshot(engine: &Engine) -> Result<StatusSnapshot> {
    // One clock read for both (the counters themselves are read after the parts).
    let now = engine.now_ms();
    let parts = status_cache::parts_at(engine, now).await?;
    Ok(StatusSnapshot {
        health: health_snapshot_at(engine, now),
        parts,
    })
}

/// The kept `status` text with what it was built from (see [`status_raw`]).
pub type StatusText = parking_lot::Mutex<Option<(Health, Arc<StatusParts>, Arc<RawValue>)>>;

/// [`status_snapshot`] as JSON text, kept while its counters and summary parts are the same
/// ones (like [`health_raw`]: at most one serialization per millisecond between changes).
pub async fn status_raw(engine: &Engine) -> Result<Arc<RawValue>> {
    let snap = status_snapshot(engine).await?;
    let mut kept = engine.status_text().lock();
    if let Some((health, parts, text)) = &*kept {
        if *health == snap.health && Arc::ptr_eq(parts, &snap.parts) {
            return Ok(Arc::clone(text));
        }
    }
    let text: Arc<RawValue> =
        Arc::from(serde_json::value::to_raw_value(&snap.view()).map_err(|e| {
            microclaw_core::Error::internal(format!("cannot encode the summary: {e}"))
        })?);
    *kept = Some((snap.health.clone(), snap.parts.clone(), Arc::clone(&text)));
    Ok(text)
}

/// [`status_snapshot`] as a JSON tree.
pub async fn status(engine: &Engine) -> Result<Value> {
    to_tree(&status_snapshot(engine).await?.view())
}

fn to_tree<T: Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v)
        .map_err(|e| microclaw_core::Error::internal(format!("cannot encode the summary: {e}")))
}
