//! The `gateways` and `gateway_probes` tables (fleet, operations.md §5): remote gateways the
//! console probes, their last probe result and a bounded probe history. The token is never
//! here in clear: only where it lives (`token_store`, `token_ref`) and, for the file store, its
//! ciphertext. [`GatewayRow`] does not carry the ciphertext; read it with
//! [`Store::gateway_token_cipher`].

use crate::sql_error::SqlContext;
use crate::Store;
use microclaw_core::{Error, Result};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GatewayRow {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub kind: Option<String>,
    /// `keychain` | `file`.
    pub token_store: String,
    pub token_ref: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// `unknown` (never probed) | `up` | `down` | `auth_failed`.
    pub status: String,
    pub latency_ms: Option<i64>,
    pub version: Option<String>,
    pub protocol: Option<i64>,
    pub session_count: Option<i64>,
    pub last_checked_at: Option<i64>,
    pub last_error: Option<String>,
    /// Consecutive probes that were not `up`.
    pub down_streak: i64,
}

const COLUMNS: &str = "id, name, url, kind, token_store, token_ref, created_at, updated_at, \
     status, latency_ms, version, protocol, session_count, last_checked_at, last_error, down_streak";

fn row(r: &Row<'_>) -> rusqlite::Result<GatewayRow> {
    Ok(GatewayRow {
        id: r.get(0)?,
        name: r.get(1)?,
        url: r.get(2)?,
        kind: r.get(3)?,
        token_store: r.get(4)?,
        token_ref: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
        status: r.get(8)?,
        latency_ms: r.get(9)?,
        version: r.get(10)?,
        protocol: r.get(11)?,
        session_count: r.get(12)?,
        last_checked_at: r.get(13)?,
        last_error: r.get(14)?,
        down_streak: r.get(15)?,
    })
}

/// A new gateway: where its token went (the caller stored it first).
#[derive(Debug, Clone)]
pub struct GatewayNew {
    pub name: String,
    pub url: String,
    pub kind: Option<String>,
    pub token_store: String,
    pub token_ref: String,
    pub token_cipher: Option<Vec<u8>>,
}

/// A change: `None` leaves the field as it is; `token` replaces the token's place.
#[derive(Debug, Clone, Default)]
pub struct GatewayPatch {
    pub name: Option<String>,
    pub url: Option<String>,
    pub kind: Option<String>,
    pub token: Option<(String, String, Option<Vec<u8>>)>,
}

/// One probe's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeResult {
    pub status: String,
    pub latency_ms: Option<i64>,
    pub version: Option<String>,
    pub protocol: Option<i64>,
    pub session_count: Option<i64>,
    pub kind: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeRow {
    pub at: i64,
    pub status: String,
    pub latency_ms: Option<i64>,
    pub error: Option<String>,
}

fn not_found(id: i64) -> Error {
    Error::not_found(format!(
        "gateway {id} not found: expected an id from GET /api/gateways"
    ))
}

impl Store {
    pub fn gateway_insert(&self, g: &GatewayNew, now: i64) -> Result<GatewayRow> {
        self.write("adding a gateway", |c| {
            c.execute(
                "INSERT INTO gateways (name, url, kind, token_store, token_ref, token_cipher, \
                 created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![
                    g.name,
                    g.url,
                    g.kind,
                    g.token_store,
                    g.token_ref,
                    g.token_cipher,
                    now
                ],
            )
            .ctx("inserting the gateway")?;
            let id = c.last_insert_rowid();
            c.query_row(
                &format!("SELECT {COLUMNS} FROM gateways WHERE id = ?1"),
                [id],
                row,
            )
            .ctx("reading the new gateway")
        })
    }

    pub fn gateways_list(&self) -> Result<Vec<GatewayRow>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!("SELECT {COLUMNS} FROM gateways ORDER BY id"))
                .ctx("preparing the gateway list")?;
            let rows = st
                .query_map([], row)
                .ctx("listing gateways")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading gateways")?;
            Ok(rows)
        })
    }

    pub fn gateway_get(&self, id: i64) -> Result<Option<GatewayRow>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM gateways WHERE id = ?1"),
                [id],
                row,
            )
            .optional()
            .ctx(&format!("reading gateway {id}"))
        })
    }

    /// The file store's ciphertext (nonce || sealed token), if the token lives there.
    pub fn gateway_token_cipher(&self, id: i64) -> Result<Option<Vec<u8>>> {
        self.read(|c| {
            c.query_row(
                "SELECT token_cipher FROM gateways WHERE id = ?1",
                [id],
                |r| r.get::<_, Option<Vec<u8>>>(0),
            )
            .optional()
            .ctx(&format!("reading gateway {id}'s token"))
            .map(Option::flatten)
        })
    }

    pub fn gateway_update(&self, id: i64, p: &GatewayPatch, now: i64) -> Result<GatewayRow> {
        self.write(&format!("updating gateway {id}"), |c| {
            let n = c
                .execute(
                    "UPDATE gateways SET name = COALESCE(?2, name), url = COALESCE(?3, url), \
                     kind = COALESCE(?4, kind), updated_at = ?5 WHERE id = ?1",
                    params![id, p.name, p.url, p.kind, now],
                )
                .ctx("updating the gateway")?;
            if n == 0 {
                return Err(not_found(id));
            }
            if let Some((store, reference, cipher)) = &p.token {
                c.execute(
                    "UPDATE gateways SET token_store = ?2, token_ref = ?3, token_cipher = ?4, \
                     status = 'unknown', down_streak = 0 WHERE id = ?1",
                    params![id, store, reference, cipher],
                )
                .ctx("replacing the gateway's token")?;
            }
            c.query_row(
                &format!("SELECT {COLUMNS} FROM gateways WHERE id = ?1"),
                [id],
                row,
            )
            .ctx("reading the updated gateway")
        })
    }

    /// Removes the gateway and its history; returns the removed row.
    pub fn gateway_delete(&self, id: i64) -> Result<GatewayRow> {
        self.write(&format!("removing gateway {id}"), |c| {
            let found = c
                .query_row(
                    &format!("SELECT {COLUMNS} FROM gateways WHERE id = ?1"),
                    [id],
                    row,
                )
                .optional()
                .ctx("reading the gateway")?
                .ok_or_else(|| not_found(id))?;
            c.execute("DELETE FROM gateway_probes WHERE gateway_id = ?1", [id])
                .ctx("removing the gateway's history")?;
            c.execute("DELETE FROM gateways WHERE id = ?1", [id])
                .ctx("removing the gateway")?;
            Ok(found)
        })
    }

    /// Records one probe: the gateway's current state, one history row (the newest `keep`
    /// kept). Returns the row after the probe, or `None` when the gateway was removed meanwhile.
    pub fn gateway_record_probe(
        &self,
        id: i64,
        r: &ProbeResult,
        now: i64,
        keep: usize,
    ) -> Result<Option<GatewayRow>> {
        self.write(&format!("recording a probe of gateway {id}"), |c| {
            let n = c
                .execute(
                    "UPDATE gateways SET status = ?2, latency_ms = ?3, \
                     version = COALESCE(?4, version), protocol = COALESCE(?5, protocol), \
                     session_count = COALESCE(?6, session_count), kind = COALESCE(?7, kind), \
                     last_error = ?8, last_checked_at = ?9, \
                     down_streak = CASE WHEN ?2 = 'up' THEN 0 ELSE down_streak + 1 END \
                     WHERE id = ?1",
                    params![
                        id,
                        r.status,
                        r.latency_ms,
                        r.version,
                        r.protocol,
                        r.session_count,
                        r.kind,
                        r.error,
                        now
                    ],
                )
                .ctx("updating the gateway's state")?;
            if n == 0 {
                return Ok(None);
            }
            c.execute(
                "INSERT INTO gateway_probes (gateway_id, at, status, latency_ms, error) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, now, r.status, r.latency_ms, r.error],
            )
            .ctx("appending the probe history")?;
            c.execute(
                "DELETE FROM gateway_probes WHERE gateway_id = ?1 AND id <= \
                 (SELECT id FROM gateway_probes WHERE gateway_id = ?1 ORDER BY id DESC \
                  LIMIT 1 OFFSET ?2)",
                params![id, keep as i64],
            )
            .ctx("trimming the probe history")?;
            c.query_row(
                &format!("SELECT {COLUMNS} FROM gateways WHERE id = ?1"),
                [id],
                row,
            )
            .optional()
            .ctx("reading the probed gateway")
        })
    }

    /// The newest `limit` probes, oldest first.
    pub fn gateway_history(&self, id: i64, limit: usize) -> Result<Vec<ProbeRow>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT at, status, latency_ms, error FROM (SELECT id, at, status, \
                     latency_ms, error FROM gateway_probes WHERE gateway_id = ?1 \
                     ORDER BY id DESC LIMIT ?2) ORDER BY id",
                )
                .ctx("preparing the probe history")?;
            let rows = st
                .query_map(params![id, limit as i64], |r| {
                    Ok(ProbeRow {
                        at: r.get(0)?,
                        status: r.get(1)?,
                        latency_ms: r.get(2)?,
                        error: r.get(3)?,
                    })
                })
                .ctx("reading the probe history")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading probe rows")?;
            Ok(rows)
        })
    }
}
