//! Shared test setup: a real SQLite store in a temp dir, a manual clock, an engine.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use microclaw_core::config::Synchronous;
use microclaw_core::{Config, ManualClock, SharedClock};
use microclaw_metrics::{Metrics, MetricsEngine};
use microclaw_store::Store;

/// 2024-01-01T00:00:00Z, a minute boundary.
pub const T0: i64 = 1_704_067_200_000;
pub const MIN: i64 = 60_000;

pub struct Rig {
    pub dir: tempfile::TempDir,
    pub clock: ManualClock,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub engine: Arc<MetricsEngine>,
    pub cfg: Config,
}

pub fn open_store(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("microclaw.db"), Synchronous::Normal).unwrap()
}

pub fn rig_with(cfg: Config) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let store = open_store(&dir);
    let shared: SharedClock = Arc::new(clock.clone());
    let metrics = Metrics::new(shared.clone(), &cfg.metrics);
    let engine = MetricsEngine::new(metrics.clone(), store.clone(), shared, &cfg);
    Rig {
        dir,
        clock,
        store,
        metrics,
        engine,
        cfg,
    }
}

pub fn rig() -> Rig {
    rig_with(Config::default())
}

impl Rig {
    /// A new process on the same database (fresh counters, same history).
    pub fn restart(&self) -> (Arc<Metrics>, Arc<MetricsEngine>) {
        let shared: SharedClock = Arc::new(self.clock.clone());
        let metrics = Metrics::new(shared.clone(), &self.cfg.metrics);
        let engine = MetricsEngine::new(metrics.clone(), open_store(&self.dir), shared, &self.cfg);
        (metrics, engine)
    }
}

/// Records `n` finished runs with the given state and latency.
pub fn runs(m: &Metrics, n: u64, state: &str, latency_ms: u64) {
    for _ in 0..n {
        m.run_started();
        m.run_finished(state, latency_ms, 10, 20);
    }
}
