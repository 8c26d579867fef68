//! The `incidents` and `incident_timeline` tables (operations.md §4): incidents with owner,
//! severity, status, the alert rules that joined them, and a timeline of what happened.

use crate::sql_error::SqlContext;
use crate::Store;
use microclaw_core::{Error, Result};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentRow {
    pub id: i64,
    pub title: String,
    pub severity: String,
    pub status: String,
    pub owner: Option<String>,
    pub slo: Option<String>,
    pub alert_ids: Vec<String>,
    pub opened_at: i64,
    pub mitigated_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineRow {
    pub id: i64,
    pub ts: i64,
    pub kind: String,
    pub text: String,
    pub actor: String,
}

const COLUMNS: &str = "id, title, severity, status, owner, slo, alert_ids, opened_at, \
     mitigated_at, resolved_at, updated_at";

fn row(r: &Row<'_>) -> rusqlite::Result<IncidentRow> {
    let ids: String = r.get(6)?;
    Ok(IncidentRow {
        id: r.get(0)?,
        title: r.get(1)?,
        severity: r.get(2)?,
        status: r.get(3)?,
        owner: r.get(4)?,
        slo: r.get(5)?,
        alert_ids: serde_json::from_str(&ids).unwrap_or_default(),
        opened_at: r.get(7)?,
        mitigated_at: r.get(8)?,
        resolved_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

fn not_found(id: i64) -> Error {
    Error::not_found(format!(
        "incident {id} not found: expected an id from GET /api/incidents"
    ))
}

fn get(c: &rusqlite::Connection, id: i64) -> Result<IncidentRow> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM incidents WHERE id = ?1"),
        [id],
        row,
    )
    .optional()
    .ctx(&format!("reading incident {id}"))?
    .ok_or_else(|| not_found(id))
}

fn note(
    c: &rusqlite::Connection,
    id: i64,
    ts: i64,
    kind: &str,
    text: &str,
    actor: &str,
) -> Result<()> {
    c.execute(
        "INSERT INTO incident_timeline (incident_id, ts, kind, text, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, ts, kind, text, actor],
    )
    .ctx("adding to the incident timeline")?;
    c.execute(
        "UPDATE incidents SET updated_at = ?2 WHERE id = ?1",
        params![id, ts],
    )
    .ctx("touching the incident")?;
    Ok(())
}

/// A change to an incident (with its timeline entry).
#[derive(Debug, Clone)]
pub enum IncidentChange {
    Owner(String),
    Status(String),
    /// `(kind, text)`: a timeline entry only (note, alert, config, override).
    Entry(String, String),
    /// A firing alert rule joined the incident.
    Alert(String, String),
}

impl Store {
    /// Opens an incident with its first timeline entry.
    #[allow(clippy::too_many_arguments)]
    pub fn incident_open(
        &self,
        title: &str,
        severity: &str,
        slo: Option<&str>,
        alert_id: Option<&str>,
        first: (&str, &str),
        actor: &str,
        now: i64,
    ) -> Result<IncidentRow> {
        self.write("opening an incident", |c| {
            let ids = serde_json::to_string(&alert_id.map(|a| vec![a]).unwrap_or_default())
                .unwrap_or_else(|_| "[]".into());
            c.execute(
                "INSERT INTO incidents (title, severity, status, slo, alert_ids, opened_at, updated_at) \
                 VALUES (?1, ?2, 'open', ?3, ?4, ?5, ?5)",
                params![title, severity, slo, ids, now],
            )
            .ctx("inserting the incident")?;
            let id = c.last_insert_rowid();
            note(c, id, now, first.0, first.1, actor)?;
            get(c, id)
        })
    }

    pub fn incident_get(&self, id: i64) -> Result<IncidentRow> {
        self.read(|c| get(c, id))
    }

    /// Newest first; `status` filters; `limit` 1..=500.
    pub fn incidents_list(&self, status: Option<&str>, limit: i64) -> Result<Vec<IncidentRow>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM incidents WHERE (?1 IS NULL OR status = ?1) ORDER BY id DESC LIMIT ?2"
                ))
                .ctx("preparing the incident list")?;
            let rows = st
                .query_map(params![status, limit.clamp(1, 500)], row)
                .ctx("listing incidents")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading incidents")?;
            Ok(rows)
        })
    }

    /// The newest incident not resolved, for `slo` (any SLO when `None`).
    pub fn incident_open_for(&self, slo: Option<&str>) -> Result<Option<IncidentRow>> {
        self.read(|c| {
            c.query_row(
                &format!(
                    "SELECT {COLUMNS} FROM incidents WHERE status != 'resolved' \
                     AND (?1 IS NULL OR slo = ?1) ORDER BY id DESC LIMIT 1"
                ),
                [slo],
                row,
            )
            .optional()
            .ctx("finding the open incident")
        })
    }

    pub fn incident_timeline(&self, id: i64) -> Result<Vec<TimelineRow>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT id, ts, kind, text, actor FROM incident_timeline WHERE incident_id = ?1 ORDER BY id",
                )
                .ctx("preparing the incident timeline")?;
            let rows = st
                .query_map([id], |r| {
                    Ok(TimelineRow {
                        id: r.get(0)?,
                        ts: r.get(1)?,
                        kind: r.get(2)?,
                        text: r.get(3)?,
                        actor: r.get(4)?,
                    })
                })
                .ctx("reading the incident timeline")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading the incident timeline")?;
            Ok(rows)
        })
    }

    /// Applies `change` with its timeline entry; returns the incident after it.
    pub fn incident_change(
        &self,
        id: i64,
        change: &IncidentChange,
        actor: &str,
        now: i64,
    ) -> Result<IncidentRow> {
        self.write(&format!("updating incident {id}"), |c| {
            let before = get(c, id)?;
            match change {
                IncidentChange::Owner(owner) => {
                    c.execute("UPDATE incidents SET owner = ?2 WHERE id = ?1", params![id, owner])
                        .ctx("setting the owner")?;
                    let text = match &before.owner {
                        Some(old) => format!("owner {old} → {owner}"),
                        None => format!("owner set to {owner}"),
                    };
                    note(c, id, now, "owner", &text, actor)?;
                }
                IncidentChange::Status(status) => {
                    c.execute(
                        "UPDATE incidents SET status = ?2, \
                         mitigated_at = CASE WHEN ?2 = 'mitigated' THEN ?3 ELSE mitigated_at END, \
                         resolved_at = CASE WHEN ?2 = 'resolved' THEN ?3 ELSE NULL END WHERE id = ?1",
                        params![id, status, now],
                    )
                    .ctx("setting the status")?;
                    note(c, id, now, "status", &format!("status {} → {status}", before.status), actor)?;
                }
                IncidentChange::Entry(kind, text) => note(c, id, now, kind, text, actor)?,
                IncidentChange::Alert(rule, text) => {
                    let mut ids = before.alert_ids.clone();
                    if !ids.contains(rule) {
                        ids.push(rule.clone());
                    }
                    let ids = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
                    c.execute("UPDATE incidents SET alert_ids = ?2 WHERE id = ?1", params![id, ids])
                        .ctx("adding the alert")?;
                    note(c, id, now, "alert", text, actor)?;
                }
            }
            get(c, id)
        })
    }
}
