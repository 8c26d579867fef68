//! Minute history in `metrics_history`: one row per minute bucket holding that minute's
//! deltas as JSON (see [`Delta`]), and the `/api/metrics/history` query over it.
//!
//! Merge semantic: the store replaces a bucket's row, so a flush reads the bucket's row,
//! adds the new delta into it and writes it back (read-modify-write). Several flushes in one
//! minute, or a restart within a minute, therefore add up instead of overwriting.
//!
//! Steps: `step` (seconds, a multiple of 60) or, when absent, the smallest step of
//! [`AUTO_STEPS_MINUTES`] that keeps the answer within `limit` points. Steps that are
//! multiples of 10 minutes / 1 hour read the rollups (see [`crate::rollup`]).

use std::str::FromStr;

use microclaw_core::{Error, Result};
use microclaw_store::Store;

use crate::aggregate::{minute_start, MINUTE_MS};
use crate::delta::Delta;

pub use crate::history_json::{columns_json, history_json};

pub const MAX_MINUTES: u32 = 43_200;
pub const MAX_LIMIT: u32 = 43_200;
/// `limit` when the request has none.
pub const DEFAULT_LIMIT: u32 = 2_000;
/// The automatic steps, in minutes: multiples of the rollup widths past 10 minutes.
pub const AUTO_STEPS_MINUTES: &[u32] = &[
    1, 2, 5, 10, 20, 30, 60, 120, 180, 360, 720, 1440, 2880, 10_080, 43_200, 86_400,
];

/// The two response forms of `/api/metrics/history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryFormat {
    /// `{ok, minutes, step_seconds, points:[{timestamp_ms, …}]}`, zero-filled.
    #[default]
    Points,
    /// `{ok, minutes, step_seconds, timestamps:[…], series:{name:[…]}}`, `null` for gaps.
    Columns,
}

impl FromStr for HistoryFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "points" => Ok(HistoryFormat::Points),
            "columns" => Ok(HistoryFormat::Columns),
            _ => Err(Error::invalid(format!(
                "format={s:?} is unknown; expected points or columns"
            ))),
        }
    }
}

/// A history query as the HTTP route gets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryRequest {
    /// 1..=43200.
    pub minutes: u32,
    /// Seconds, a multiple of 60 no longer than the range; `None` = automatic.
    pub step_seconds: Option<u32>,
    /// 1..=43200: at most this many points (the step widens to fit).
    pub limit: u32,
    pub format: HistoryFormat,
}

impl Default for HistoryRequest {
    fn default() -> Self {
        HistoryRequest {
            minutes: 60,
            step_seconds: None,
            limit: DEFAULT_LIMIT,
            format: HistoryFormat::Points,
        }
    }
}

/// Adds `delta` into the row of `bucket_ms` (read-modify-write).
pub fn add_into_bucket(store: &Store, bucket_ms: i64, delta: &Delta) -> Result<()> {
    let mut merged = read_rows(store, bucket_ms, bucket_ms)?
        .into_iter()
        .map(|(_, d)| d)
        .next()
        .unwrap_or_default();
    merged.merge(delta);
    store.metrics_history_put(&[(bucket_ms, merged.to_json())])
}

/// Decoded minute rows with `from <= bucket <= to`, ascending.
pub fn read_rows(store: &Store, from_ms: i64, to_ms: i64) -> Result<Vec<(i64, Delta)>> {
    Ok(decode_rows(
        store.metrics_history_range(from_ms, to_ms)?,
        "minute",
    ))
}

/// Decodes stored rows. Rows that do not decode are skipped with a warning (one damaged row
/// must not hide the rest of the history).
pub fn decode_rows(raw: Vec<(i64, String)>, kind: &str) -> Vec<(i64, Delta)> {
    let mut out = Vec::with_capacity(raw.len());
    for (ts, json) in raw {
        match Delta::from_json(&json) {
            Ok(d) => out.push((ts, d)),
            Err(e) => {
                tracing::warn!(bucket_ms = ts, kind, error = %e, "skipping a damaged metrics history row")
            }
        }
    }
    out
}

/// Number of epoch-aligned steps of `step_ms` touched by the last `minutes` minutes.
pub fn step_count(now_ms: i64, minutes: u32, step_ms: i64) -> i64 {
    let current = minute_start(now_ms);
    let first = current - (i64::from(minutes) - 1) * MINUTE_MS;
    current.div_euclid(step_ms) - first.div_euclid(step_ms) + 1
}

/// Checks the query and picks the step (ms): the requested one, or the smallest automatic
/// step at least as long, when the requested one (or 1 minute) would give more than `limit`
/// points.
pub fn choose_step(req: &HistoryRequest, now_ms: i64) -> Result<i64> {
    let minutes = req.minutes;
    if !(1..=MAX_MINUTES).contains(&minutes) {
        return Err(Error::invalid(format!(
            "minutes={minutes} is out of range; expected 1..={MAX_MINUTES}"
        )));
    }
    if !(1..=MAX_LIMIT).contains(&req.limit) {
        return Err(Error::invalid(format!(
            "limit={} is out of range; expected 1..={MAX_LIMIT}",
            req.limit
        )));
    }
    let asked = match req.step_seconds {
        None => 1,
        Some(s) if s >= 60 && s % 60 == 0 && s / 60 <= minutes => s / 60,
        Some(s) => {
            return Err(Error::invalid(format!(
                "step={s} is not allowed; expected a multiple of 60 seconds from 60 up to the range ({} s)",
                u64::from(minutes) * 60
            )))
        }
    };
    let fits =
        |m: u32| step_count(now_ms, minutes, i64::from(m) * MINUTE_MS) <= i64::from(req.limit);
    if fits(asked) {
        return Ok(i64::from(asked) * MINUTE_MS);
    }
    let widened = AUTO_STEPS_MINUTES
        .iter()
        .copied()
        .find(|m| *m >= asked && fits(*m))
        .unwrap_or(AUTO_STEPS_MINUTES[AUTO_STEPS_MINUTES.len() - 1]);
    Ok(i64::from(widened) * MINUTE_MS)
}

/// One slot per step (ascending) over the last `minutes` minutes, `None` where no row (and no
/// live data) fell: `rows` are the rows of the range (minutes or rollups, each inside the
/// range), `live` what has not been flushed yet (it belongs to the current minute).
pub fn history_steps(
    rows: &[(i64, Delta)],
    live: &Delta,
    now_ms: i64,
    minutes: u32,
    step_ms: i64,
) -> Vec<(i64, Option<Delta>)> {
    let current = minute_start(now_ms);
    let first = current - (i64::from(minutes) - 1) * MINUTE_MS;
    let first_step = first.div_euclid(step_ms);
    let last_step = current.div_euclid(step_ms);
    let n = (last_step - first_step + 1).max(0) as usize;
    // Sparse merges: most steps hold one row or a few, so no dense accumulator per step.
    let mut steps: Vec<Option<Delta>> = vec![None; n];
    let mut add = |ts: i64, d: &Delta| {
        if ts < first || ts > current {
            return;
        }
        let idx = (ts.div_euclid(step_ms) - first_step) as usize;
        match steps.get_mut(idx) {
            Some(Some(acc)) => acc.merge(d),
            Some(slot) => *slot = Some(d.clone()),
            None => {}
        }
    };
    for (ts, d) in rows {
        add(*ts, d);
    }
    if !live.is_quiet() {
        add(current, live);
    }
    steps
        .into_iter()
        .enumerate()
        .map(|(i, d)| ((first_step + i as i64) * step_ms, d))
        .collect()
}

/// [`history_steps`] with empty steps zero-filled (the `points` form, CSV and charts).
pub fn history_points(
    rows: &[(i64, Delta)],
    live: &Delta,
    now_ms: i64,
    minutes: u32,
    step_ms: i64,
) -> Vec<(i64, Delta)> {
    history_steps(rows, live, now_ms, minutes, step_ms)
        .into_iter()
        .map(|(ts, d)| (ts, d.unwrap_or_default()))
        .collect()
}
