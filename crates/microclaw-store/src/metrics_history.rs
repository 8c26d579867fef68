//! The `metrics_history` table (one JSON blob per minute bucket) and its rollups
//! `metrics_rollup_10m` / `metrics_rollup_1h` (one blob per complete 10-minute / hourly bucket).
//! The metrics crate owns the format and the merging; the store only upserts, reads ranges and
//! prunes.

use crate::sql_error::SqlContext;
use crate::Store;
use microclaw_core::Result;
use rusqlite::{params, Connection, OptionalExtension};

/// A rollup table of the minute history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RollupLevel {
    TenMinutes,
    Hour,
}

impl RollupLevel {
    pub const ALL: [RollupLevel; 2] = [RollupLevel::TenMinutes, RollupLevel::Hour];

    /// The bucket width in milliseconds.
    pub fn width_ms(self) -> i64 {
        match self {
            RollupLevel::TenMinutes => 600_000,
            RollupLevel::Hour => 3_600_000,
        }
    }

    fn table(self) -> &'static str {
        match self {
            RollupLevel::TenMinutes => "metrics_rollup_10m",
            RollupLevel::Hour => "metrics_rollup_1h",
        }
    }
}

fn put(c: &Connection, table: &str, rows: &[(i64, String)]) -> Result<()> {
    let mut stmt = c
        .prepare_cached(&format!(
            "INSERT INTO {table} (bucket_ms, data) VALUES (?1, ?2) \
             ON CONFLICT (bucket_ms) DO UPDATE SET data = excluded.data"
        ))
        .ctx(&format!("preparing the {table} upsert"))?;
    for (bucket, json) in rows {
        stmt.execute(params![bucket, json])
            .ctx(&format!("storing {table} bucket {bucket}"))?;
    }
    Ok(())
}

fn range(c: &Connection, table: &str, from_ms: i64, to_ms: i64) -> Result<Vec<(i64, String)>> {
    c.prepare_cached(&format!(
        "SELECT bucket_ms, data FROM {table} \
         WHERE bucket_ms >= ?1 AND bucket_ms <= ?2 ORDER BY bucket_ms"
    ))
    .ctx(&format!("preparing the {table} query"))?
    .query_map(params![from_ms, to_ms], |r| Ok((r.get(0)?, r.get(1)?)))
    .ctx(&format!("reading {table}"))?
    .collect::<rusqlite::Result<Vec<_>>>()
    .ctx(&format!("reading {table} rows"))
}

fn edge(c: &Connection, table: &str, agg: &str) -> Result<Option<i64>> {
    c.query_row(&format!("SELECT {agg}(bucket_ms) FROM {table}"), [], |r| {
        r.get::<_, Option<i64>>(0)
    })
    .optional()
    .ctx(&format!("reading the {agg} bucket of {table}"))
    .map(Option::flatten)
}

fn prune(c: &Connection, table: &str, before_ms: i64) -> Result<u64> {
    let n = c
        .execute(
            &format!("DELETE FROM {table} WHERE bucket_ms < ?1"),
            [before_ms],
        )
        .ctx(&format!("pruning {table}"))?;
    Ok(n as u64)
}

impl Store {
    /// Stores each (bucket start ms, json) row, replacing an existing row for that bucket.
    pub fn metrics_history_put(&self, rows: &[(i64, String)]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        self.write("storing metrics history", |c| {
            put(c, "metrics_history", rows)
        })
    }

    /// Buckets with `from_ms <= bucket <= to_ms` (both inclusive), ascending.
    pub fn metrics_history_range(&self, from_ms: i64, to_ms: i64) -> Result<Vec<(i64, String)>> {
        self.read(|c| range(c, "metrics_history", from_ms, to_ms))
    }

    /// The oldest minute bucket, if any.
    pub fn metrics_history_first(&self) -> Result<Option<i64>> {
        self.read(|c| edge(c, "metrics_history", "MIN"))
    }

    /// Deletes buckets older than `before_ms` (exclusive); returns how many.
    pub fn metrics_history_prune(&self, before_ms: i64) -> Result<u64> {
        self.write("pruning metrics history", |c| {
            prune(c, "metrics_history", before_ms)
        })
    }

    /// Stores rollup rows of `level`, replacing existing rows of the same buckets.
    pub fn metrics_rollup_put(&self, level: RollupLevel, rows: &[(i64, String)]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        self.write("storing metrics rollups", |c| put(c, level.table(), rows))
    }

    /// Rollup rows of `level` with `from_ms <= bucket <= to_ms`, ascending.
    pub fn metrics_rollup_range(
        &self,
        level: RollupLevel,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, String)>> {
        self.read(|c| range(c, level.table(), from_ms, to_ms))
    }

    /// The newest rollup bucket of `level`, if any.
    pub fn metrics_rollup_last(&self, level: RollupLevel) -> Result<Option<i64>> {
        self.read(|c| edge(c, level.table(), "MAX"))
    }

    /// Deletes rollup rows of `level` older than `before_ms` (exclusive); returns how many.
    pub fn metrics_rollup_prune(&self, level: RollupLevel, before_ms: i64) -> Result<u64> {
        self.write("pruning metrics rollups", |c| {
            prune(c, level.table(), before_ms)
        })
    }
}
