//! Minute history in `metrics_history`: one row per minute bucket holding that minute's
//! deltas as JSON (see [`Delta`]).
//!
//! Merge semantic: the store replaces a bucket's row, so a flush reads the bucket's row,
//! adds the new delta into it and writes it back (read-modify-write). Several flushes in one
//! minute, or a restart within a minute, therefore add up instead of overwriting.

use serde_json::{json, Value};

use microclaw_core::{Error, Result};
use microclaw_store::Store;

use crate::aggregate::{minute_start, MINUTE_MS};
use crate::delta::Delta;

pub const MAX_MINUTES: u32 = 43_200;
pub const MAX_LIMIT: u32 = 43_200;

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

/// Decoded rows with `from <= bucket <= to`, ascending. Rows that do not decode are skipped
/// with a warning (one damaged row must not hide the rest of the history).
pub fn read_rows(store: &Store, from_ms: i64, to_ms: i64) -> Result<Vec<(i64, Delta)>> {
    let raw = store.metrics_history_range(from_ms, to_ms)?;
    let mut out = Vec::with_capacity(raw.len());
    for (ts, json) in raw {
        match Delta::from_json(&json) {
            Ok(d) => out.push((ts, d)),
            Err(e) => {
                tracing::warn!(bucket_ms = ts, error = %e, "skipping a damaged metrics history row")
            }
        }
    }
    Ok(out)
}

/// Checked query parameters: (minutes, effective step in ms).
pub fn check_params(minutes: u32, step_seconds: u32, limit: u32) -> Result<(u32, i64)> {
    if !(1..=MAX_MINUTES).contains(&minutes) {
        return Err(Error::invalid(format!(
            "minutes={minutes} is out of range; expected 1..={MAX_MINUTES}"
        )));
    }
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid(format!(
            "limit={limit} is out of range; expected 1..={MAX_LIMIT}"
        )));
    }
    let step_seconds = if step_seconds == 0 { 60 } else { step_seconds };
    if step_seconds % 60 != 0 || step_seconds / 60 > minutes {
        return Err(Error::invalid(format!(
            "step={step_seconds} is not allowed; expected a multiple of 60 seconds no longer than the range ({} s)",
            u64::from(minutes) * 60
        )));
    }
    // More steps than `limit`: widen the step so the whole range still fits.
    let mut step_minutes = step_seconds / 60;
    let needed = minutes.div_ceil(limit);
    if step_minutes < needed {
        step_minutes = needed;
    }
    Ok((minutes, i64::from(step_minutes) * MINUTE_MS))
}

/// One point per step (ascending, zero-filled) over the last `minutes` minutes: `rows`
/// are the minute rows of the range, `live` what has not been flushed yet (it belongs to the
/// current minute).
pub fn history_points(
    rows: &[(i64, Delta)],
    live: &Delta,
    now_ms: i64,
    minutes: u32,
    step_ms: i64,
) -> Vec<(i64, Delta)> {
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
        .map(|(i, d)| ((first_step + i as i64) * step_ms, d.unwrap_or_default()))
        .collect()
}

/// The `/api/metrics/history` body.
pub fn history_json(points: &[(i64, Delta)], minutes: u32, step_ms: i64) -> Value {
    let points: Vec<Value> = points.iter().map(|(ts, d)| d.point_json(*ts)).collect();
    json!({ "ok": true, "minutes": minutes, "step_seconds": step_ms / 1000, "points": points })
}
