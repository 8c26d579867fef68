//! Rollups of the minute history: 10-minute and hourly rows (`metrics_rollup_10m`,
//! `metrics_rollup_1h`) holding the merged deltas of their minutes, so long ranges read one
//! row per bucket instead of every minute.
//!
//! - Only **complete** buckets are rolled up: a bucket is written once the minute flush sees
//!   the clock past its end, recomputed from its minute rows (idempotent, so a crash between
//!   the minute write and the rollup write is repaired by the next flush).
//! - The newest rollup row marks how far a level is rolled; the next flush continues from the
//!   bucket after it. With no rollup yet (a database written before rollups existed) it starts
//!   at the oldest minute row: that is the backfill, run at start and by the first flush.
//! - Reads of a range at a level combine: minute rows up to the first bucket boundary (head),
//!   the rollup rows, then minute rows from the end of the rolled part to the end (tail).
//!   The result therefore equals a scan of every minute row, at the cost of ~2 buckets of
//!   minutes plus one row per bucket.

use std::collections::BTreeMap;

use microclaw_core::Result;
use microclaw_store::metrics_history::RollupLevel;
use microclaw_store::Store;

use crate::aggregate::{minute_start, MINUTE_MS};
use crate::delta::Delta;
use crate::history::{decode_rows, read_rows};

const DAY_MS: i64 = 86_400_000;

/// How long rollup rows are kept (days): longer than minute rows, they are small.
pub fn retention_days(level: RollupLevel, minute_retention_days: u32) -> u32 {
    let own = match level {
        RollupLevel::TenMinutes => 90,
        RollupLevel::Hour => 400,
    };
    own.max(minute_retention_days)
}

fn floor(ms: i64, w: i64) -> i64 {
    ms.div_euclid(w) * w
}

/// The coarsest level whose buckets tile a step of `step_ms` (None: minute rows).
pub fn level_for_step(step_ms: i64) -> Option<RollupLevel> {
    [RollupLevel::Hour, RollupLevel::TenMinutes]
        .into_iter()
        .find(|l| step_ms >= l.width_ms() && step_ms % l.width_ms() == 0)
}

/// Rolls up every complete bucket of every level that is not rolled up yet, as of `now_ms`,
/// and prunes rollups past their retention. Returns how many rollup rows were written.
pub fn roll_up(store: &Store, now_ms: i64, minute_retention_days: u32) -> Result<usize> {
    let mut written = 0;
    for level in RollupLevel::ALL {
        let n = roll_level(store, level, now_ms)?;
        if n > 0 {
            let keep = i64::from(retention_days(level, minute_retention_days)) * DAY_MS;
            store.metrics_rollup_prune(level, minute_start(now_ms) - keep)?;
        }
        written += n;
    }
    Ok(written)
}

fn roll_level(store: &Store, level: RollupLevel, now_ms: i64) -> Result<usize> {
    let w = level.width_ms();
    let open = floor(minute_start(now_ms), w);
    // Minute rows before the oldest one do not exist: never walk an empty stretch before it.
    let Some(first) = store.metrics_history_first()? else {
        return Ok(0);
    };
    let start = match store.metrics_rollup_last(level)? {
        Some(last) => (last + w).max(floor(first, w)),
        None => floor(first, w),
    };
    let mut written = 0;
    // A day of minutes at a time keeps the backfill of a long history in bounded memory.
    let mut chunk = start;
    while chunk < open {
        let end = (chunk + DAY_MS).min(open);
        let mut buckets: BTreeMap<i64, Delta> = BTreeMap::new();
        for (ts, d) in read_rows(store, chunk, end - 1)? {
            buckets.entry(floor(ts, w)).or_default().merge(&d);
        }
        let rows: Vec<(i64, String)> = buckets.iter().map(|(b, d)| (*b, d.to_json())).collect();
        store.metrics_rollup_put(level, &rows)?;
        written += rows.len();
        chunk = end;
    }
    Ok(written)
}

/// The rows covering `from_ms..=to_ms` (`from_ms` a minute start): minute rows, or with
/// `level` rollup rows where whole rolled-up buckets fit, minute rows elsewhere. Ascending;
/// every row's timestamp lies in the range. Summing them equals summing the minute rows.
pub fn read_range(
    store: &Store,
    from_ms: i64,
    to_ms: i64,
    level: Option<RollupLevel>,
) -> Result<Vec<(i64, Delta)>> {
    let Some(level) = level else {
        return read_rows(store, from_ms, to_ms);
    };
    let w = level.width_ms();
    let head_end = floor(from_ms + w - 1, w);
    let rolled_end = match store.metrics_rollup_last(level)? {
        Some(last) => last + w,
        None => return read_rows(store, from_ms, to_ms),
    };
    let tail_start = rolled_end.min(floor(to_ms + 1, w));
    if tail_start <= head_end {
        return read_rows(store, from_ms, to_ms);
    }
    let mut rows = if from_ms < head_end {
        read_rows(store, from_ms, head_end - 1)?
    } else {
        Vec::new()
    };
    let rolled = store.metrics_rollup_range(level, head_end, tail_start - w)?;
    rows.extend(decode_rows(rolled, "rollup"));
    rows.extend(read_rows(store, tail_start, to_ms)?);
    Ok(rows)
}

/// Minutes per level, for callers that report which resolution answered.
pub fn level_minutes(level: Option<RollupLevel>) -> i64 {
    level.map_or(1, |l| l.width_ms() / MINUTE_MS)
}
