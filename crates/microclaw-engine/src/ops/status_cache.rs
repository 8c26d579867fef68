//! The slow parts of `status` (the five most recent sessions, the self-check risk level, the
//! SLO brief), kept between calls and rebuilt only when the state they summarize changed:
//! every engine event bumps [`Engine::state_version`], and a cached summary also expires after
//! [`STATUS_MAX_AGE_MS`] on the engine clock (for changes no event announces: another process
//! writing the database, a key going stale with time, the SLO window moving on).

use crate::engine::Engine;
use microclaw_core::Result;
use parking_lot::Mutex;
use serde_json::value::RawValue;
use serde_json::Value;
use std::sync::Arc;

/// How long a summary is served without an event (engine-clock milliseconds).
pub const STATUS_MAX_AGE_MS: i64 = 1_000;

/// The summary parts of `status` that need the store or the metrics engine, kept as JSON
/// text (a call copies them into its reply without walking a tree).
#[derive(Debug, Clone)]
pub struct StatusParts {
    /// `sessions.recent`: `[{key, label, updatedAt, messageCount}]`.
    pub recent: Box<RawValue>,
    pub slo: Box<RawValue>,
    pub risk_level: Box<RawValue>,
}

#[derive(Debug)]
struct Entry {
    version: u64,
    session_count: i64,
    built_at_ms: i64,
    parts: Arc<StatusParts>,
}

/// One engine's cached status parts.
#[derive(Debug, Default)]
pub struct StatusCache {
    entry: Mutex<Option<Entry>>,
}

impl StatusCache {
    /// The cached parts while nothing changed (same state version and session count, younger
    /// than [`STATUS_MAX_AGE_MS`]).
    fn fresh(&self, version: u64, session_count: i64, now_ms: i64) -> Option<Arc<StatusParts>> {
        let entry = self.entry.lock();
        let e = entry.as_ref()?;
        let age = now_ms - e.built_at_ms;
        (e.version == version
            && e.session_count == session_count
            && (0..STATUS_MAX_AGE_MS).contains(&age))
        .then(|| e.parts.clone())
    }

    fn store(&self, version: u64, session_count: i64, built_at_ms: i64, parts: Arc<StatusParts>) {
        let mut entry = self.entry.lock();
        // A newer build (started after a later change) is never replaced by an older one.
        if entry.as_ref().is_some_and(|e| e.version > version) {
            return;
        }
        *entry = Some(Entry {
            version,
            session_count,
            built_at_ms,
            parts,
        });
    }

    /// Drops the cached parts (the next `status` rebuilds them).
    pub fn invalidate(&self) {
        *self.entry.lock() = None;
    }
}

/// True while `status` would be answered from memory (no store read, nothing to wait on).
pub fn is_fresh(engine: &Engine) -> bool {
    engine
        .status_cache()
        .fresh(
            engine.state_version(),
            engine.session_count(),
            engine.now_ms(),
        )
        .is_some()
}

/// The status parts at `now_ms` on the engine clock: from the cache while fresh, otherwise
/// rebuilt (off the async workers).
pub async fn parts_at(engine: &Engine, now: i64) -> Result<Arc<StatusParts>> {
    let cache = engine.status_cache();
    // Read before building: a change during the build leaves the entry already stale.
    let version = engine.state_version();
    let count = engine.session_count();
    if let Some(parts) = cache.fresh(version, count, now) {
        return Ok(parts);
    }
    let parts = Arc::new(build(engine).await?);
    cache.store(version, count, now, parts.clone());
    Ok(parts)
}

async fn build(engine: &Engine) -> Result<StatusParts> {
    let (recent, check) = engine
        .blocking_read(|e| {
            let recent = e.store().sessions_recent(5)?;
            let check = crate::self_check::run(e)?;
            Ok((recent, check))
        })
        .await?;
    let recent: Vec<Value> = recent
        .iter()
        .map(|r| serde_json::json!({"key": r.key, "label": r.label, "updatedAt": r.updated_at, "messageCount": r.message_count}))
        .collect();
    let slo = engine.metrics_engine().slo_brief_async().await;
    Ok(StatusParts {
        recent: raw(&recent)?,
        slo: raw(&slo)?,
        risk_level: raw(check.risk_level)?,
    })
}

fn raw<T: serde::Serialize + ?Sized>(v: &T) -> Result<Box<RawValue>> {
    serde_json::value::to_raw_value(v)
        .map_err(|e| microclaw_core::Error::internal(format!("cannot encode the status: {e}")))
}
