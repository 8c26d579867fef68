//! `usage.cost` / `GET /api/usage` (OpenClaw's `{updatedAt, days, daily[], totals}` plus our
//! `byModel[]`, `byAgent[]`, `topSessions[]`, `dailyByModel[]`) and `sessions.usage {key}`.
//! Days are dates in `budgets.timezone` (default UTC); missing days are zero rows.

use crate::Engine;
use microclaw_core::{normalize_session_key, Error, Result};
use microclaw_store::UsageDailyRow;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const DEFAULT_DAYS: u32 = 30;
pub const MAX_DAYS: u32 = 36_600;
/// Sessions listed in `topSessions`.
pub const TOP_SESSIONS: u32 = 10;

/// `days` as given (number or numeric string); default 30, at most 36,600.
pub fn parse_days(v: Option<&Value>) -> Result<u32> {
    let bad = |v: &Value| {
        Error::invalid(format!(
            "days = {v} is not allowed: expected a whole number from 1 to {MAX_DAYS}"
        ))
    };
    let n = match v {
        None | Some(Value::Null) => return Ok(DEFAULT_DAYS),
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| bad(v.unwrap_or(&Value::Null)))?,
        Some(Value::String(s)) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| bad(v.unwrap_or(&Value::Null)))?,
        Some(other) => return Err(bad(other)),
    };
    if n == 0 || n > u64::from(MAX_DAYS) {
        return Err(bad(&json!(n)));
    }
    Ok(n as u32)
}

/// Sums of rows (tokens, cost, runs), kept as floats/ints for JSON.
#[derive(Debug, Clone, Default)]
struct Sum {
    runs: u64,
    input: u64,
    output: u64,
    cost: f64,
    input_cost: f64,
    output_cost: f64,
    unpriced: u64,
    estimated: u64,
    missing_by_model: BTreeMap<String, u64>,
}

impl Sum {
    fn add(&mut self, engine: &Engine, r: &UsageDailyRow) {
        self.runs += r.runs;
        self.input += r.input_tokens;
        self.output += r.output_tokens;
        self.cost += r.cost_usd;
        // The split by kind follows the current price (the total is what was recorded).
        let b = engine.budgets();
        if let (Some(i), Some(o)) = (
            b.cost(&r.model, r.input_tokens, 0),
            b.cost(&r.model, 0, r.output_tokens),
        ) {
            let priced_runs = r.runs.saturating_sub(r.unpriced_runs);
            if priced_runs > 0 && i + o > 0.0 {
                let share = r.cost_usd / (i + o);
                self.input_cost += i * share;
                self.output_cost += o * share;
            }
        }
        self.unpriced += r.unpriced_runs;
        self.estimated += r.estimated_runs;
        if r.unpriced_runs > 0 && !r.model.is_empty() {
            *self.missing_by_model.entry(r.model.clone()).or_default() += r.unpriced_runs;
        }
    }

    /// OpenClaw's totals object (+ `runs`, `estimatedRuns`).
    fn json(&self) -> Value {
        let mut v = json!({
            "input": self.input,
            "output": self.output,
            "cacheRead": 0,
            "cacheWrite": 0,
            "totalTokens": self.input + self.output,
            "totalCost": round6(self.cost),
            "inputCost": round6(self.input_cost),
            "outputCost": round6(self.output_cost),
            "cacheReadCost": 0,
            "cacheWriteCost": 0,
            "missingCostEntries": self.unpriced,
            "runs": self.runs,
            "estimatedRuns": self.estimated,
        });
        if !self.missing_by_model.is_empty() {
            v["missingCostByModel"] = json!(self.missing_by_model);
        }
        v
    }
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

fn with(mut base: Value, key: &str, val: Value) -> Value {
    base[key] = val;
    base
}

/// Every date from `from` to `to` inclusive (`YYYY-MM-DD`).
fn dates(from: &str, to: &str) -> Vec<String> {
    let parse = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let (Some(mut d), Some(end)) = (parse(from), parse(to)) else {
        return vec![];
    };
    let mut out = Vec::new();
    while d <= end {
        out.push(d.format("%Y-%m-%d").to_string());
        d += chrono::Duration::days(1);
    }
    out
}

/// `usage.cost {days?}`.
pub async fn usage_cost(engine: &Engine, days: u32) -> Result<Value> {
    let now = engine.now_ms();
    let tz = engine.budgets().zone();
    let to = crate::budgets::window::day_of(tz, now);
    let from = crate::budgets::window::day_before(tz, now, i64::from(days) - 1);
    let (f, t) = (from.clone(), to.clone());
    let rows = engine
        .store()
        .read_async(move |s| s.usage_by_day_agent_model(&f, &t))
        .await?;
    let (f, t) = (from.clone(), to.clone());
    let top = engine
        .store()
        .read_async(move |s| s.usage_top_sessions(&f, &t, TOP_SESSIONS))
        .await?;
    let mut by_day: BTreeMap<String, Sum> = dates(&from, &to)
        .into_iter()
        .map(|d| (d, Sum::default()))
        .collect();
    let mut by_model: BTreeMap<String, Sum> = BTreeMap::new();
    let mut by_agent: BTreeMap<String, Sum> = BTreeMap::new();
    let mut day_model: BTreeMap<(String, String), Sum> = BTreeMap::new();
    let mut totals = Sum::default();
    for r in &rows {
        by_day.entry(r.day.clone()).or_default().add(engine, r);
        by_model.entry(r.model.clone()).or_default().add(engine, r);
        by_agent
            .entry(r.agent_id.clone())
            .or_default()
            .add(engine, r);
        day_model
            .entry((r.day.clone(), r.model.clone()))
            .or_default()
            .add(engine, r);
        totals.add(engine, r);
    }
    let by_cost_desc = |mut v: Vec<(String, Sum)>| {
        v.sort_by(|a, b| {
            b.1.cost
                .total_cmp(&a.1.cost)
                .then((b.1.input + b.1.output).cmp(&(a.1.input + a.1.output)))
        });
        v
    };
    let daily: Vec<Value> = by_day
        .iter()
        .map(|(d, s)| with(s.json(), "date", json!(d)))
        .collect();
    let models: Vec<Value> = by_cost_desc(by_model.into_iter().collect())
        .into_iter()
        .map(|(m, s)| {
            let priced = engine.budgets().priced(&m);
            with(with(s.json(), "model", json!(m)), "priced", json!(priced))
        })
        .collect();
    let agents: Vec<Value> = by_cost_desc(by_agent.into_iter().collect())
        .into_iter()
        .map(|(a, s)| with(s.json(), "agentId", json!(a)))
        .collect();
    let day_models: Vec<Value> = day_model
        .iter()
        .map(|((d, m), s)| {
            json!({"date": d, "model": m, "tokens": s.input + s.output, "input": s.input,
                   "output": s.output, "cost": round6(s.cost), "count": s.runs})
        })
        .collect();
    let sessions: Vec<Value> = top
        .iter()
        .map(|r| {
            let mut s = Sum::default();
            s.add(engine, r);
            with(
                with(s.json(), "key", json!(r.session_key)),
                "agentId",
                json!(r.agent_id),
            )
        })
        .collect();
    Ok(json!({
        "updatedAt": now,
        "days": days,
        "startDate": from,
        "endDate": to,
        "timeZone": engine.budgets().config().timezone,
        "daily": daily,
        "totals": totals.json(),
        "byModel": models,
        "byAgent": agents,
        "dailyByModel": day_models,
        "topSessions": sessions,
    }))
}

/// `sessions.usage {key}`: one session's usage (OpenClaw's shape, the fields we know).
pub async fn sessions_usage(engine: &Engine, key: &str) -> Result<Value> {
    let key = normalize_session_key(Some(key))?;
    let (k1, k2) = (key.clone(), key.clone());
    let row = engine
        .store()
        .read_async(move |s| s.session_get(&k1))
        .await?;
    let rows = engine
        .store()
        .read_async(move |s| s.usage_of_session(&k2))
        .await?;
    let Some(row) = row else {
        return Err(Error::not_found(format!(
            "Invalid session reference: no session '{key}'"
        )));
    };
    let mut totals = Sum::default();
    let mut daily: BTreeMap<String, Sum> = BTreeMap::new();
    let mut models: BTreeMap<String, Sum> = BTreeMap::new();
    for r in &rows {
        totals.add(engine, r);
        daily.entry(r.day.clone()).or_default().add(engine, r);
        models.entry(r.model.clone()).or_default().add(engine, r);
    }
    let daily_json: Vec<Value> = daily
        .iter()
        .map(|(d, s)| {
            with(
                with(
                    with(s.json(), "date", json!(d)),
                    "tokens",
                    json!(s.input + s.output),
                ),
                "cost",
                json!(round6(s.cost)),
            )
        })
        .collect();
    let model_json: Vec<Value> = models
        .iter()
        .map(|(m, s)| json!({"provider": Value::Null, "model": m, "count": s.runs, "totals": s.json()}))
        .collect();
    let (start, end) = (
        rows.first().map(|r| r.day.clone()),
        rows.last().map(|r| r.day.clone()),
    );
    let usage = if rows.is_empty() {
        Value::Null
    } else {
        let mut u = totals.json();
        u["sessionId"] = json!(row.session_id);
        u["activityDates"] = json!(daily.keys().collect::<Vec<_>>());
        u["dailyBreakdown"] = Value::Array(daily_json);
        u["modelUsage"] = Value::Array(model_json.clone());
        u
    };
    let agent = row
        .agent_id
        .clone()
        .or_else(|| rows.first().map(|r| r.agent_id.clone()));
    Ok(json!({
        "updatedAt": engine.now_ms(),
        "startDate": start,
        "endDate": end,
        "sessions": [{
            "key": row.key,
            "label": row.label,
            "sessionId": row.session_id,
            "scope": "instance",
            "updatedAt": row.updated_at,
            "agentId": agent,
            "usage": usage,
            "hasContextWeight": false,
        }],
        "totals": totals.json(),
        "aggregates": {"sessionCount": 1, "byModel": model_json},
    }))
}

/// Columns of the usage CSV export.
pub const CSV_HEADER: &[&str] = &[
    "date",
    "agent_id",
    "model",
    "runs",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost_usd",
    "unpriced_runs",
    "estimated_runs",
];

/// The days of `usage_cost` as CSV (one line per day, agent and model; `cost_usd` empty when
/// no run of the line had a price), through the metrics export's CSV writer.
pub async fn usage_csv(engine: &Engine, days: u32) -> Result<String> {
    let now = engine.now_ms();
    let tz = engine.budgets().zone();
    let to = crate::budgets::window::day_of(tz, now);
    let from = crate::budgets::window::day_before(tz, now, i64::from(days) - 1);
    let rows = engine
        .store()
        .read_async(move |s| s.usage_by_day_agent_model(&from, &to))
        .await?;
    let lines = rows.into_iter().map(|r| {
        let cost = if r.unpriced_runs >= r.runs {
            String::new()
        } else {
            format!("{:.6}", r.cost_usd)
        };
        vec![
            r.day,
            r.agent_id,
            r.model,
            r.runs.to_string(),
            r.input_tokens.to_string(),
            r.output_tokens.to_string(),
            (r.input_tokens + r.output_tokens).to_string(),
            cost,
            r.unpriced_runs.to_string(),
            r.estimated_runs.to_string(),
        ]
    });
    Ok(microclaw_metrics::export::csv::table(CSV_HEADER, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_accept_numbers_and_numeric_strings_and_name_the_range() {
        assert_eq!(parse_days(None).unwrap(), DEFAULT_DAYS);
        assert_eq!(parse_days(Some(&json!("7"))).unwrap(), 7);
        let e = parse_days(Some(&json!(0))).unwrap_err();
        assert!(e.message.contains("1 to 36600"), "{}", e.message);
        assert!(parse_days(Some(&json!("x"))).is_err());
        assert_eq!(dates("2026-11-29", "2026-12-01").len(), 3);
    }
}
