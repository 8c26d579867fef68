//! The `config_versions` table: every applied config file, numbered (operations.md §4
//! rollback). A rollback is a new version whose text is an older one's.

use crate::sql_error::SqlContext;
use crate::Store;
use microclaw_core::Result;
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigVersionRow {
    pub version: i64,
    pub at: i64,
    pub actor: String,
    /// `put` | `rollback` | `initial`.
    pub source: String,
    pub text: String,
    pub changed: Vec<String>,
    pub rolled_back_to: Option<i64>,
}

const COLUMNS: &str = "version, at, actor, source, text, changed, rolled_back_to";

fn row(r: &Row<'_>) -> rusqlite::Result<ConfigVersionRow> {
    let changed: String = r.get(5)?;
    Ok(ConfigVersionRow {
        version: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        source: r.get(3)?,
        text: r.get(4)?,
        changed: serde_json::from_str(&changed).unwrap_or_default(),
        rolled_back_to: r.get(6)?,
    })
}

/// Versions kept (the oldest beyond this are pruned).
pub const CONFIG_VERSIONS_KEPT: i64 = 200;

impl Store {
    /// Records an applied config; returns the new version.
    pub fn config_version_add(
        &self,
        actor: &str,
        source: &str,
        text: &str,
        changed: &[String],
        rolled_back_to: Option<i64>,
        now: i64,
    ) -> Result<ConfigVersionRow> {
        self.write("recording a config version", |c| {
            let changed = serde_json::to_string(changed).unwrap_or_else(|_| "[]".into());
            c.execute(
                "INSERT INTO config_versions (at, actor, source, text, changed, rolled_back_to) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![now, actor, source, text, changed, rolled_back_to],
            )
            .ctx("inserting the config version")?;
            let v = c.last_insert_rowid();
            c.execute(
                "DELETE FROM config_versions WHERE version <= ?1",
                [v - CONFIG_VERSIONS_KEPT],
            )
            .ctx("pruning old config versions")?;
            c.query_row(
                &format!("SELECT {COLUMNS} FROM config_versions WHERE version = ?1"),
                [v],
                row,
            )
            .ctx("reading the new config version")
        })
    }

    /// Newest first.
    pub fn config_versions_list(&self, limit: i64) -> Result<Vec<ConfigVersionRow>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM config_versions ORDER BY version DESC LIMIT ?1"
                ))
                .ctx("preparing the config version list")?;
            let rows = st
                .query_map([limit.clamp(1, CONFIG_VERSIONS_KEPT)], row)
                .ctx("listing config versions")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading config versions")?;
            Ok(rows)
        })
    }

    pub fn config_version_get(&self, version: i64) -> Result<Option<ConfigVersionRow>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM config_versions WHERE version = ?1"),
                [version],
                row,
            )
            .optional()
            .ctx(&format!("reading config version {version}"))
        })
    }
}
