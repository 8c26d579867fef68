//! The `alert_transitions` table: every state change of an alert rule (pending, firing,
//! resolved, inactive), newest kept up to a bound. `GET /api/alerts` and `alerts.list` read it.

use crate::sql_error::SqlContext;
use crate::Store;
use microclaw_core::Result;
use rusqlite::{params, Row};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransitionRow {
    pub id: i64,
    pub rule: String,
    pub slo: String,
    pub severity: String,
    #[serde(rename = "from")]
    pub from_state: String,
    pub state: String,
    pub window: String,
    pub burn_rate: f64,
    pub burn_rate_short: f64,
    pub threshold: f64,
    pub samples: i64,
    pub since: i64,
    pub at: i64,
}

const COLUMNS: &str = "id, rule, slo, severity, from_state, state, window, burn_rate, \
     burn_rate_short, threshold, samples, since, at";

fn row(r: &Row<'_>) -> rusqlite::Result<TransitionRow> {
    Ok(TransitionRow {
        id: r.get(0)?,
        rule: r.get(1)?,
        slo: r.get(2)?,
        severity: r.get(3)?,
        from_state: r.get(4)?,
        state: r.get(5)?,
        window: r.get(6)?,
        burn_rate: r.get(7)?,
        burn_rate_short: r.get(8)?,
        threshold: r.get(9)?,
        samples: r.get(10)?,
        since: r.get(11)?,
        at: r.get(12)?,
    })
}

/// Filters for [`Store::alert_transitions_list`].
#[derive(Debug, Clone, Default)]
pub struct TransitionQuery {
    pub state: Option<String>,
    pub since: Option<i64>,
    pub rule: Option<String>,
    pub limit: i64,
}

impl Store {
    /// Stores a transition and prunes beyond the newest `keep`; returns its id.
    pub fn alert_transition_insert(&self, t: &TransitionRow, keep: i64) -> Result<i64> {
        self.write("storing an alert transition", |c| {
            c.execute(
                "INSERT INTO alert_transitions (rule, slo, severity, from_state, state, window, \
                 burn_rate, burn_rate_short, threshold, samples, since, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    t.rule,
                    t.slo,
                    t.severity,
                    t.from_state,
                    t.state,
                    t.window,
                    t.burn_rate,
                    t.burn_rate_short,
                    t.threshold,
                    t.samples,
                    t.since,
                    t.at
                ],
            )
            .ctx("inserting the alert transition")?;
            let id = c.last_insert_rowid();
            c.execute(
                "DELETE FROM alert_transitions WHERE id <= ?1",
                [id - keep.max(1)],
            )
            .ctx("pruning old alert transitions")?;
            Ok(id)
        })
    }

    /// Transitions, newest first, filtered by state, time (`at >= since`) and rule.
    pub fn alert_transitions_list(&self, q: &TransitionQuery) -> Result<Vec<TransitionRow>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM alert_transitions WHERE (?1 IS NULL OR state = ?1) \
                     AND (?2 IS NULL OR at >= ?2) AND (?3 IS NULL OR rule = ?3) \
                     ORDER BY id DESC LIMIT ?4"
                ))
                .ctx("preparing the alert transition list")?;
            let rows = st
                .query_map(
                    params![q.state, q.since, q.rule, q.limit.clamp(1, 1000)],
                    row,
                )
                .ctx("listing alert transitions")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading alert transitions")?;
            Ok(rows)
        })
    }
}
