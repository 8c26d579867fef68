//! The `audit_log` table, hash-chained: each row's `entry_hash` is
//! hex(SHA-256(prev_hash || canonical row)), where the canonical row is the JSON array
//! `[id, ts, kind, actor, target, detail]` with `detail` exactly as stored. The first row's
//! `prev_hash` is 64 zeros. Editing, inserting or deleting a row (except the newest) breaks it.

use crate::sql_error::SqlContext;
use crate::Store;
use microclaw_core::{Error, Result};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// `prev_hash` of the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub ts: i64,
    pub kind: String,
    pub actor: String,
    pub target: Option<String>,
    pub detail: serde_json::Value,
    pub prev_hash: String,
    pub entry_hash: String,
}

/// One stored row with `detail` as its raw text (what the hash covers).
struct RawAudit {
    id: i64,
    ts: i64,
    kind: String,
    actor: String,
    target: Option<String>,
    detail: String,
    prev_hash: String,
    entry_hash: String,
}

const AUDIT_COLUMNS: &str = "id, ts, kind, actor, target, detail, prev_hash, entry_hash";

fn raw_from_row(r: &Row<'_>) -> rusqlite::Result<RawAudit> {
    Ok(RawAudit {
        id: r.get(0)?,
        ts: r.get(1)?,
        kind: r.get(2)?,
        actor: r.get(3)?,
        target: r.get(4)?,
        detail: r.get(5)?,
        prev_hash: r.get(6)?,
        entry_hash: r.get(7)?,
    })
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// hex(SHA-256(prev_hash || canonical)), canonical = `[id,ts,kind,actor,target,detail]`.
pub fn audit_entry_hash(
    prev_hash: &str,
    id: i64,
    ts: i64,
    kind: &str,
    actor: &str,
    target: Option<&str>,
    detail_json: &str,
) -> String {
    let target = target.map_or_else(|| "null".to_string(), json_str);
    let canonical = format!(
        "[{id},{ts},{},{},{target},{detail_json}]",
        json_str(kind),
        json_str(actor)
    );
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

impl RawAudit {
    fn expected_hash(&self) -> String {
        audit_entry_hash(
            &self.prev_hash,
            self.id,
            self.ts,
            &self.kind,
            &self.actor,
            self.target.as_deref(),
            &self.detail,
        )
    }

    fn into_row(self) -> Result<AuditRow> {
        let detail = serde_json::from_str(&self.detail).map_err(|e| {
            Error::internal(format!(
                "audit row {} has a detail that is not JSON: {e}",
                self.id
            ))
        })?;
        Ok(AuditRow {
            id: self.id,
            ts: self.ts,
            kind: self.kind,
            actor: self.actor,
            target: self.target,
            detail,
            prev_hash: self.prev_hash,
            entry_hash: self.entry_hash,
        })
    }
}

impl Store {
    /// Appends a row chained to the newest one, inside one write transaction.
    pub fn audit_append(
        &self,
        kind: &str,
        actor: &str,
        target: Option<&str>,
        detail: &serde_json::Value,
        now: i64,
    ) -> Result<AuditRow> {
        let detail_json = detail.to_string();
        self.write(&format!("appending audit event '{kind}'"), |c| {
            let last: Option<(i64, String)> = c
                .prepare_cached("SELECT id, entry_hash FROM audit_log ORDER BY id DESC LIMIT 1")
                .ctx("preparing the audit head lookup")?
                .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .ctx("reading the newest audit row")?;
            let (id, prev_hash) = match last {
                Some((id, hash)) => (id + 1, hash),
                None => (1, GENESIS_HASH.to_string()),
            };
            let entry_hash = audit_entry_hash(&prev_hash, id, now, kind, actor, target, &detail_json);
            c.prepare_cached(
                "INSERT INTO audit_log (id, ts, kind, actor, target, detail, prev_hash, entry_hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .ctx("preparing the audit insert")?
            .execute(params![id, now, kind, actor, target, detail_json, prev_hash, entry_hash])
            .ctx("inserting the audit row")?;
            Ok(AuditRow {
                id,
                ts: now,
                kind: kind.to_string(),
                actor: actor.to_string(),
                target: target.map(str::to_string),
                detail: detail.clone(),
                prev_hash,
                entry_hash,
            })
        })
    }

    /// Newest first, optionally only one kind.
    pub fn audit_list(&self, limit: u32, kind: Option<&str>) -> Result<Vec<AuditRow>> {
        self.read(|c| {
            let raws = c
                .prepare_cached(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE (?1 IS NULL OR kind = ?1) \
                     ORDER BY id DESC LIMIT ?2"
                ))
                .ctx("preparing the audit list")?
                .query_map(params![kind, limit], raw_from_row)
                .ctx("listing audit rows")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading audit rows")?;
            raws.into_iter().map(RawAudit::into_row).collect()
        })
    }

    /// Recomputes the chain: Ok(Ok(rows checked)) when intact, Ok(Err(message naming the first
    /// broken row id)) when not; the outer Err is a database failure.
    pub fn audit_verify(&self) -> Result<Result<u64, String>> {
        self.read(|c| {
            let tx = c
                .unchecked_transaction()
                .ctx("starting the audit verification read")?;
            let mut stmt = tx
                .prepare(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY id"
                ))
                .ctx("preparing the audit scan")?;
            let mut rows = stmt.query([]).ctx("scanning the audit log")?;
            let mut prev = GENESIS_HASH.to_string();
            let mut count = 0u64;
            while let Some(r) = rows.next().ctx("reading an audit row")? {
                let raw = raw_from_row(r).ctx("decoding an audit row")?;
                if raw.prev_hash != prev {
                    return Ok(Err(format!(
                        "audit chain broken at id {}: prev_hash does not match the entry_hash of \
                         the row before it (a row was changed, inserted or removed)",
                        raw.id
                    )));
                }
                if raw.expected_hash() != raw.entry_hash {
                    return Ok(Err(format!(
                        "audit chain broken at id {}: entry_hash does not match the row's contents \
                         (the row was modified)",
                        raw.id
                    )));
                }
                prev = raw.entry_hash;
                count += 1;
            }
            Ok(Ok(count))
        })
    }
}
