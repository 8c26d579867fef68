//! Numbered schema migrations (the `.sql` files in `migrations/`), applied in one transaction
//! at open and tracked with `PRAGMA user_version`. A database written by a newer build is
//! refused rather than guessed at.

use crate::sql_error::SqlContext;
use microclaw_core::{Error, Result};
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// Migration N (1-based) is `MIGRATIONS[N - 1]`; never edit a released one, append instead.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_sessions_messages",
        include_str!("migrations/0001_sessions_messages.sql"),
    ),
    ("0002_runs", include_str!("migrations/0002_runs.sql")),
    ("0003_auth", include_str!("migrations/0003_auth.sql")),
    (
        "0004_audit_log",
        include_str!("migrations/0004_audit_log.sql"),
    ),
    (
        "0005_metrics_history",
        include_str!("migrations/0005_metrics_history.sql"),
    ),
    (
        "0006_metrics_rollups",
        include_str!("migrations/0006_metrics_rollups.sql"),
    ),
    (
        "0007_session_generation",
        include_str!("migrations/0007_session_generation.sql"),
    ),
    (
        "0008_device_pairing",
        include_str!("migrations/0008_device_pairing.sql"),
    ),
    (
        "0009_message_search",
        include_str!("migrations/0009_message_search.sql"),
    ),
    (
        "0010_scheduler",
        include_str!("migrations/0010_scheduler.sql"),
    ),
    (
        "0011_gateways",
        include_str!("migrations/0011_gateways.sql"),
    ),
    (
        "0012_approvals",
        include_str!("migrations/0012_approvals.sql"),
    ),
    ("0013_usage", include_str!("migrations/0013_usage.sql")),
    (
        "0014_incidents",
        include_str!("migrations/0014_incidents.sql"),
    ),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema up to `SCHEMA_VERSION`; returns the version found before migrating.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<i64> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx("starting the migration transaction")?;
    let found: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .ctx("reading the schema version (PRAGMA user_version)")?;
    if found > SCHEMA_VERSION {
        return Err(Error::internal(format!(
            "database {} has schema version {found}, but this build of microclaw only knows \
             versions up to {SCHEMA_VERSION}; upgrade microclaw or point it at another data directory",
            path.display()
        )));
    }
    if found < 0 {
        return Err(Error::internal(format!(
            "database {} has an invalid schema version {found}; expected 0..={SCHEMA_VERSION}",
            path.display()
        )));
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql)
            .ctx(&format!("applying migration {name}"))?;
        tracing::debug!(migration = name, version = i + 1, "applied store migration");
    }
    if found < SCHEMA_VERSION {
        tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
            .ctx("recording the schema version")?;
    }
    tx.commit().ctx("committing the migrations")?;
    Ok(found)
}
