//! Summing minute deltas over windows: counters add, gauges keep the peak, latency
//! histograms merge into dense accumulators (no per-row allocation).

use crate::delta::Delta;
use crate::histogram::HistogramSnapshot;

pub const MINUTE_MS: i64 = 60_000;

/// Start of the minute bucket holding `ms`.
pub fn minute_start(ms: i64) -> i64 {
    ms.div_euclid(MINUTE_MS) * MINUTE_MS
}

/// The sum of some deltas.
#[derive(Debug, Clone, Default)]
pub struct Aggregate {
    /// Counters and gauges (its histograms stay empty; see `latency` / `first_token`).
    pub delta: Delta,
    pub latency: HistogramSnapshot,
    pub first_token: HistogramSnapshot,
}

impl Aggregate {
    pub fn add(&mut self, d: &Delta) {
        self.delta.merge_counters(d);
        self.latency.merge_sparse(&d.request_latency_ms);
        self.first_token.merge_sparse(&d.first_token_latency_ms);
    }

    /// Back to a `Delta` with sparse histograms (for a history point).
    pub fn to_delta(&self) -> Delta {
        let mut d = self.delta.clone();
        d.request_latency_ms = self.latency.to_sparse();
        d.first_token_latency_ms = self.first_token.to_sparse();
        d
    }
}

/// Aggregates for several trailing windows ending at the live minute, in one pass.
/// A window of `n` minutes holds the buckets whose start is `>= minute_start(now) - (n-1) min`.
pub fn trailing_windows(
    rows: &[(i64, Delta)],
    live: &Delta,
    now_ms: i64,
    minutes: &[u32],
) -> Vec<Aggregate> {
    let current = minute_start(now_ms);
    let starts: Vec<i64> = minutes
        .iter()
        .map(|m| current - (i64::from(*m).max(1) - 1) * MINUTE_MS)
        .collect();
    let mut aggs = vec![Aggregate::default(); minutes.len()];
    for (ts, d) in rows {
        for (agg, start) in aggs.iter_mut().zip(&starts) {
            if *ts >= *start && *ts <= current {
                agg.add(d);
            }
        }
    }
    for agg in &mut aggs {
        agg.add(live);
    }
    aggs
}
