//! Token and cost usage: each run's usage on its `runs` row, and the `usage_daily` sums per
//! (day, session, agent, model) that reports and budgets read (they survive run pruning).

use crate::sql_error::SqlContext;
use crate::Store;
use microclaw_core::Result;
use rusqlite::{params, Row};
use serde::Serialize;

/// One finished run's usage, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    pub run_id: String,
    pub session_key: String,
    pub agent_id: String,
    pub model: String,
    /// The run's end date in the budget time zone (`YYYY-MM-DD`).
    pub day: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// `None` = the model has no price (unknown, never guessed).
    pub cost_usd: Option<f64>,
    pub estimated: bool,
    pub now: i64,
}

/// One `usage_daily` row (or a sum of rows grouped by some of its keys).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageDailyRow {
    pub day: String,
    pub session_key: String,
    pub agent_id: String,
    pub model: String,
    pub runs: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    pub unpriced_runs: u64,
    pub estimated_runs: u64,
}

/// The use a budget check needs, read in one transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UsageTotals {
    pub day_tokens: u64,
    pub day_usd: f64,
    pub agent_day_tokens: u64,
    pub agent_day_usd: f64,
    pub session_tokens: u64,
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn daily_row(r: &Row<'_>) -> rusqlite::Result<UsageDailyRow> {
    Ok(UsageDailyRow {
        day: r.get(0)?,
        session_key: r.get(1)?,
        agent_id: r.get(2)?,
        model: r.get(3)?,
        runs: u(r.get(4)?),
        input_tokens: u(r.get(5)?),
        output_tokens: u(r.get(6)?),
        cost_usd: r.get(7)?,
        unpriced_runs: u(r.get(8)?),
        estimated_runs: u(r.get(9)?),
    })
}

const SUMS: &str = "sum(runs), sum(input_tokens), sum(output_tokens), sum(cost_usd), \
                    sum(unpriced_runs), sum(estimated_runs)";

impl Store {
    /// Writes the run's usage onto its row and adds it to the day's sums. Call on the writer
    /// right after `run_complete` (one write closure).
    pub fn usage_record(&self, r: &UsageRecord) -> Result<()> {
        self.write("recording a run's usage", |c| {
            c.prepare_cached(
                "UPDATE runs SET agent_id = ?2, model = ?3, input_tokens = ?4, output_tokens = ?5, \
                 cost_usd = ?6, usage_estimated = ?7 WHERE run_id = ?1",
            )
            .ctx("preparing the run usage update")?
            .execute(params![
                r.run_id,
                r.agent_id,
                r.model,
                i(r.input_tokens),
                i(r.output_tokens),
                r.cost_usd,
                r.estimated
            ])
            .ctx("storing the run's usage")?;
            c.prepare_cached(
                "INSERT INTO usage_daily (day, session_key, agent_id, model, runs, input_tokens, \
                 output_tokens, cost_usd, unpriced_runs, estimated_runs, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (day, session_key, agent_id, model) DO UPDATE SET \
                 runs = runs + 1, input_tokens = input_tokens + excluded.input_tokens, \
                 output_tokens = output_tokens + excluded.output_tokens, \
                 cost_usd = cost_usd + excluded.cost_usd, \
                 unpriced_runs = unpriced_runs + excluded.unpriced_runs, \
                 estimated_runs = estimated_runs + excluded.estimated_runs, \
                 updated_at = excluded.updated_at",
            )
            .ctx("preparing the daily usage upsert")?
            .execute(params![
                r.day,
                r.session_key,
                r.agent_id,
                r.model,
                i(r.input_tokens),
                i(r.output_tokens),
                r.cost_usd.unwrap_or(0.0),
                i64::from(r.cost_usd.is_none()),
                i64::from(r.estimated),
                r.now
            ])
            .ctx("adding the run to the daily usage")?;
            Ok(())
        })
    }

    /// Sums for days `from..=to` (`YYYY-MM-DD`) grouped by day, agent and model (the
    /// session key left empty), days ascending.
    pub fn usage_by_day_agent_model(&self, from: &str, to: &str) -> Result<Vec<UsageDailyRow>> {
        self.read(|c| {
            let sql = format!(
                "SELECT day, '', agent_id, model, {SUMS} FROM usage_daily \
                 WHERE day >= ?1 AND day <= ?2 GROUP BY day, agent_id, model ORDER BY day, agent_id, model"
            );
            c.prepare_cached(&sql)
                .ctx("preparing the daily usage query")?
                .query_map(params![from, to], daily_row)
                .ctx("reading the daily usage")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading the daily usage rows")
        })
    }

    /// The `limit` sessions with the most tokens in days `from..=to` (day and model empty,
    /// agent = the session's agent with the most tokens is not tracked: one of them).
    pub fn usage_top_sessions(
        &self,
        from: &str,
        to: &str,
        limit: u32,
    ) -> Result<Vec<UsageDailyRow>> {
        self.read(|c| {
            let sql = format!(
                "SELECT '', session_key, max(agent_id), '', {SUMS} FROM usage_daily \
                 WHERE day >= ?1 AND day <= ?2 GROUP BY session_key \
                 ORDER BY sum(input_tokens + output_tokens) DESC, session_key LIMIT ?3"
            );
            c.prepare_cached(&sql)
                .ctx("preparing the top sessions query")?
                .query_map(params![from, to, limit], daily_row)
                .ctx("reading the top sessions")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading the top session rows")
        })
    }

    /// One session's sums grouped by day and model, days ascending.
    pub fn usage_of_session(&self, key: &str) -> Result<Vec<UsageDailyRow>> {
        self.read(|c| {
            let sql = format!(
                "SELECT day, session_key, max(agent_id), model, {SUMS} FROM usage_daily \
                 WHERE session_key = ?1 GROUP BY day, model ORDER BY day, model"
            );
            c.prepare_cached(&sql)
                .ctx("preparing the session usage query")?
                .query_map([key], daily_row)
                .ctx("reading the session usage")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading the session usage rows")
        })
    }

    /// What the budget checks read for a run of `agent_id` in `session_key` on `day`.
    pub fn usage_totals(
        &self,
        day: &str,
        agent_id: &str,
        session_key: &str,
    ) -> Result<UsageTotals> {
        self.read(|c| {
            let tx = c.unchecked_transaction().ctx("starting the usage read")?;
            let (day_tokens, day_usd): (i64, f64) = tx
                .prepare_cached(
                    "SELECT coalesce(sum(input_tokens + output_tokens), 0), coalesce(sum(cost_usd), 0) \
                     FROM usage_daily WHERE day = ?1",
                )
                .ctx("preparing the daily total")?
                .query_row([day], |r| Ok((r.get(0)?, r.get(1)?)))
                .ctx("reading the daily total")?;
            let (agent_tokens, agent_usd): (i64, f64) = tx
                .prepare_cached(
                    "SELECT coalesce(sum(input_tokens + output_tokens), 0), coalesce(sum(cost_usd), 0) \
                     FROM usage_daily WHERE agent_id = ?1 AND day = ?2",
                )
                .ctx("preparing the agent's daily total")?
                .query_row([agent_id, day], |r| Ok((r.get(0)?, r.get(1)?)))
                .ctx("reading the agent's daily total")?;
            let session: i64 = tx
                .prepare_cached(
                    "SELECT coalesce(sum(input_tokens + output_tokens), 0) FROM usage_daily \
                     WHERE session_key = ?1",
                )
                .ctx("preparing the session total")?
                .query_row([session_key], |r| r.get(0))
                .ctx("reading the session total")?;
            Ok(UsageTotals {
                day_tokens: u(day_tokens),
                day_usd,
                agent_day_tokens: u(agent_tokens),
                agent_day_usd: agent_usd,
                session_tokens: u(session),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(run: &str, session: &str, day: &str, cost: Option<f64>) -> UsageRecord {
        UsageRecord {
            run_id: run.into(),
            session_key: session.into(),
            agent_id: "a".into(),
            model: "m".into(),
            day: day.into(),
            input_tokens: 10,
            output_tokens: 5,
            cost_usd: cost,
            estimated: cost.is_none(),
            now: 1,
        }
    }

    #[test]
    fn usage_is_summed_per_day_and_session_and_an_unknown_cost_is_counted_not_zeroed() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("t.db"), Default::default()).unwrap();
        s.usage_record(&rec("r1", "s1", "2026-12-01", Some(0.5)))
            .unwrap();
        s.usage_record(&rec("r2", "s1", "2026-12-01", None))
            .unwrap();
        s.usage_record(&rec("r3", "s2", "2026-12-02", Some(1.0)))
            .unwrap();
        let days = s
            .usage_by_day_agent_model("2026-12-01", "2026-12-02")
            .unwrap();
        assert_eq!(days.len(), 2);
        assert_eq!(
            (days[0].runs, days[0].input_tokens, days[0].unpriced_runs),
            (2, 20, 1)
        );
        assert_eq!(days[0].cost_usd, 0.5);
        let t = s.usage_totals("2026-12-01", "a", "s1").unwrap();
        assert_eq!(
            (t.day_tokens, t.session_tokens, t.agent_day_tokens),
            (30, 30, 30)
        );
        let top = s.usage_top_sessions("2026-12-01", "2026-12-02", 1).unwrap();
        assert_eq!(top[0].session_key, "s1");
        assert_eq!(s.usage_of_session("s2").unwrap()[0].day, "2026-12-02");
    }
}
