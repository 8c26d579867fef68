//! The `metrics_history` table: one JSON blob per minute bucket. The metrics crate owns the
//! format and merges; the store only upserts, reads ranges and prunes.

use crate::sql_error::SqlContext;
use crate::Store;
use microclaw_core::Result;
use rusqlite::params;

impl Store {
    /// Stores each (bucket start ms, json) row, replacing an existing row for that bucket.
    pub fn metrics_history_put(&self, rows: &[(i64, String)]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        self.write("storing metrics history", |c| {
            let mut stmt = c
                .prepare_cached(
                    "INSERT INTO metrics_history (bucket_ms, data) VALUES (?1, ?2) \
                     ON CONFLICT (bucket_ms) DO UPDATE SET data = excluded.data",
                )
                .ctx("preparing the metrics history upsert")?;
            for (bucket, json) in rows {
                stmt.execute(params![bucket, json])
                    .ctx(&format!("storing metrics bucket {bucket}"))?;
            }
            Ok(())
        })
    }

    /// Buckets with `from_ms <= bucket <= to_ms` (both inclusive), ascending.
    pub fn metrics_history_range(&self, from_ms: i64, to_ms: i64) -> Result<Vec<(i64, String)>> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT bucket_ms, data FROM metrics_history \
                 WHERE bucket_ms >= ?1 AND bucket_ms <= ?2 ORDER BY bucket_ms",
            )
            .ctx("preparing the metrics history query")?
            .query_map(params![from_ms, to_ms], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx("reading metrics history")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("reading metrics history rows")
        })
    }

    /// Deletes buckets older than `before_ms` (exclusive); returns how many.
    pub fn metrics_history_prune(&self, before_ms: i64) -> Result<u64> {
        self.write("pruning metrics history", |c| {
            let n = c
                .execute(
                    "DELETE FROM metrics_history WHERE bucket_ms < ?1",
                    [before_ms],
                )
                .ctx("pruning metrics history")?;
            Ok(n as u64)
        })
    }
}
