//! What the run registry asks of a budget keeper (the engine implements it; this crate does not
//! depend on the engine): admit a new run, meter a running one while its reply streams, and
//! settle its usage (cost, day) when it ends.

use crate::agent::BoxFuture;
use crate::run_types::StopReason;
use microclaw_core::Result;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// A run's usage as reported on terminal events, in `agent.wait` and on the run row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
    /// `None` when the model has no price in `[pricing]` (never guessed).
    pub cost_usd: Option<f64>,
    /// True when the counts are estimates (characters / 4), not the provider's.
    pub estimated: bool,
}

impl Eq for RunUsage {}

/// Usage so far of a running run (counted while its reply streams).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub tool_calls: u64,
}

impl LiveUsage {
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

/// The same counters shared with listings ("now running": tokens so far).
#[derive(Debug, Default)]
pub struct LiveCounters {
    pub input_tokens: AtomicU64,
    pub output_tokens: AtomicU64,
    pub tool_calls: AtomicU64,
}

impl LiveCounters {
    pub fn store(&self, u: &LiveUsage) {
        self.input_tokens.store(u.input_tokens, Ordering::Relaxed);
        self.output_tokens.store(u.output_tokens, Ordering::Relaxed);
        self.tool_calls.store(u.tool_calls, Ordering::Relaxed);
    }
    pub fn load(&self) -> LiveUsage {
        LiveUsage {
            input_tokens: self.input_tokens.load(Ordering::Relaxed),
            output_tokens: self.output_tokens.load(Ordering::Relaxed),
            tool_calls: self.tool_calls.load(Ordering::Relaxed),
        }
    }
}

/// Why a run must stop (or may not start): `Budget` or `Runaway`, and a message naming the
/// cap and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetStop {
    pub reason: StopReason,
    pub message: String,
}

/// Who a run is, for the budget keeper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterStart {
    pub run_id: String,
    pub session_key: String,
    pub agent_id: String,
    pub model: String,
}

/// What settling a run's usage yields for the run row and the daily sums.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    pub cost_usd: Option<f64>,
    /// The run's end date in the budget time zone (`YYYY-MM-DD`).
    pub day: String,
}

/// Meters one run. `check` is called each time the run's usage grows (synchronously, on the
/// run's task: it must not block); `settle` once at the end with the final counts.
pub trait RunMeter: Send {
    fn check(&mut self, live: &LiveUsage, now_ms: i64) -> Option<BudgetStop>;
    fn settle(&mut self, usage: &RunUsage, now_ms: i64) -> Settled;
}

/// The budget keeper.
pub trait BudgetGuard: Send + Sync {
    /// Refuses a new run under an exhausted cap (`UNAVAILABLE`, `details.code:
    /// "BUDGET_EXCEEDED"`, `retryAfterMs` until a daily window resets).
    fn admit(&self, session_key: &str, agent_id: &str) -> BoxFuture<'static, Result<()>>;
    /// Called when the run begins (a queued run may find its cap exhausted by now).
    fn begin(
        &self,
        start: MeterStart,
    ) -> BoxFuture<'static, std::result::Result<Box<dyn RunMeter>, BudgetStop>>;
}

/// Settling without a budget keeper: no price known, the UTC day.
pub fn settle_unguarded(now_ms: i64) -> Settled {
    Settled {
        cost_usd: None,
        day: utc_day(now_ms),
    }
}

/// `YYYY-MM-DD` of `ms` since the epoch, in UTC.
pub fn utc_day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "1970-01-01".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_day_formats_the_date_of_the_instant() {
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(utc_day(1_764_547_200_000 + 86_399_999), "2025-12-01");
    }
}
