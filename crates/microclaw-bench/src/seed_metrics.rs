//! Fills `metrics_history` with one row per minute, ending at the minute before `end_ms`, the way
//! the gateway's minute flush writes them: a [`Delta`] as JSON through the store's public write
//! API (`Store::metrics_history_put`), so whatever the store keeps beside the minute rows
//! (rollups) is kept or backfilled exactly as for real history.

use anyhow::{bail, Result};
use microclaw_core::config::Synchronous;
use microclaw_metrics::aggregate::{minute_start, MINUTE_MS};
use microclaw_metrics::histogram::AtomicHistogram;
use microclaw_metrics::Delta;
use microclaw_store::Store;
use std::path::Path;
use std::time::Instant;

/// Rows written per `metrics_history_put` call (one transaction each).
const BATCH: usize = 1_000;
/// The most minutes the history keeps by default (30 days).
pub const MAX_MINUTES: usize = 43_200;

/// What was written.
#[derive(Debug, Clone, Copy)]
pub struct MetricsSeedReport {
    pub minutes: usize,
    /// The first and last bucket written (ms since the epoch, minute starts).
    pub first_bucket_ms: i64,
    pub last_bucket_ms: i64,
    pub secs: f64,
}

/// A busy-looking minute: 40 HTTP requests, ~19 runs with 20 latency samples, an error now
/// and then (deterministic in `m`).
pub fn minute_delta(m: usize) -> Delta {
    let h = AtomicHistogram::new();
    for k in 0..20u64 {
        h.record(300 + (m as u64 * 7 + k * 131) % 5000);
    }
    Delta {
        http_requests: 40,
        request_ok: 19,
        request_error: u64::from(m % 50 == 0),
        llm_completions: 19,
        tool_executions: 5,
        tool_success: 5,
        active_runs: 2,
        request_latency_ms: h.snapshot().to_sparse(),
        ..Delta::default()
    }
}

/// Writes `minutes` minute rows ending at the minute before the one holding `end_ms`.
pub fn seed_metrics(db_path: &Path, minutes: usize, end_ms: i64) -> Result<MetricsSeedReport> {
    if minutes == 0 || minutes > MAX_MINUTES {
        bail!("--metrics-minutes {minutes} is out of range: expected 1..={MAX_MINUTES} (30 days)");
    }
    let started = Instant::now();
    let store = Store::open(db_path, Synchronous::Normal)
        .map_err(|e| anyhow::anyhow!("opening {}: {}", db_path.display(), e.message))?;
    let last = minute_start(end_ms) - MINUTE_MS;
    let first = last - (minutes as i64 - 1) * MINUTE_MS;
    let mut rows = Vec::with_capacity(BATCH);
    for m in 0..minutes {
        rows.push((first + m as i64 * MINUTE_MS, minute_delta(m).to_json()));
        if rows.len() == BATCH || m + 1 == minutes {
            store
                .metrics_history_put(&rows)
                .map_err(|e| anyhow::anyhow!("writing metrics history: {}", e.message))?;
            rows.clear();
        }
    }
    store.close();
    Ok(MetricsSeedReport {
        minutes,
        first_bucket_ms: first,
        last_bucket_ms: last,
        secs: started.elapsed().as_secs_f64(),
    })
}
