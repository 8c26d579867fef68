//! Row counts of every table in a database, read through a read-only connection: before and
//! after a load run they show whether the run's read paths wrote anything.

use anyhow::{Context, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// `(table, rows)` for every user table, sorted by name.
pub fn table_rows(db: &Path) -> Result<Vec<(String, i64)>> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening {} read-only", db.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    names
        .into_iter()
        .map(|name| {
            let quoted = name.replace('"', "\"\"");
            let n: i64 = conn
                .query_row(&format!("SELECT COUNT(*) FROM \"{quoted}\""), [], |r| {
                    r.get(0)
                })
                .with_context(|| format!("counting rows of {name}"))?;
            Ok((name, n))
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn counts_rows_per_table_without_writing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE b (x); CREATE TABLE a (x); INSERT INTO b VALUES (1), (2);")
            .unwrap();
        let rows = table_rows(&path).unwrap();
        assert_eq!(rows, vec![("a".to_string(), 0), ("b".to_string(), 2)]);
        assert!(table_rows(&dir.path().join("missing.db")).is_err());
    }
}
