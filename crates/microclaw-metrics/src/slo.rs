//! SLO values over rolling windows, the 28-day error budget, and burn rates.
//!
//! Targets and alert thresholds are the runbook's: success 0.995 (alert < 0.99),
//! e2e latency p95 6000 ms (alert > 10000), tool reliability 0.985 (alert < 0.97),
//! scheduler recoverability 1.0 over 7 days (alert < 0.999).

use serde_json::{json, Map, Value};

use crate::aggregate::{trailing_windows, Aggregate};
use crate::delta::Delta;
use crate::histogram::HistogramSnapshot;

pub const SUCCESS_TARGET: f64 = 0.995;
pub const SUCCESS_ALERT: f64 = 0.99;
pub const LATENCY_TARGET_MS: u64 = 6000;
pub const LATENCY_ALERT_MS: u64 = 10_000;
pub const TOOL_TARGET: f64 = 0.985;
pub const TOOL_ALERT: f64 = 0.97;
/// 0.999, not 1.0: a target of 1.0 leaves no error budget to burn (decisions.md).
pub const SCHEDULER_TARGET: f64 = 0.999;
pub const SCHEDULER_ALERT: f64 = 0.999;
pub const BUDGET_DAYS: u32 = 28;

/// The windows reported under `windows`.
pub const REPORTED: [(&str, u32); 5] = [
    ("5m", 5),
    ("1h", 60),
    ("6h", 360),
    ("24h", 1440),
    ("7d", 10_080),
];
/// Windows the burn-rate alerts need beyond the reported ones.
const ALERT_ONLY: [(&str, u32); 1] = [("30m", 30)];

/// A window's SLO values.
#[derive(Debug, Clone, Default)]
pub struct WindowValues {
    pub ok: u64,
    pub error: u64,
    pub latency_p95_ms: u64,
    pub latency_samples: u64,
    pub tool_success: u64,
    pub tool_error: u64,
    pub tool_blocks: u64,
    pub scheduler_runs: u64,
    pub scheduler_success: u64,
    /// The latency histogram (latency SLIs count the samples within their threshold).
    pub latency: HistogramSnapshot,
}

fn ratio(good: u64, bad: u64) -> f64 {
    if good + bad == 0 {
        1.0
    } else {
        good as f64 / (good + bad) as f64
    }
}

impl WindowValues {
    pub fn from_aggregate(a: &Aggregate) -> Self {
        let d = &a.delta;
        WindowValues {
            ok: d.request_ok,
            error: d.request_error,
            latency_p95_ms: a.latency.quantile(0.95),
            latency_samples: a.latency.count(),
            tool_success: d.tool_success,
            tool_error: d.tool_error,
            tool_blocks: d.tool_policy_blocks,
            scheduler_runs: d.scheduler_runs,
            scheduler_success: d.scheduler_success,
            latency: a.latency.clone(),
        }
    }
    pub fn requests(&self) -> u64 {
        self.ok + self.error
    }
    pub fn success_rate(&self) -> f64 {
        ratio(self.ok, self.error)
    }
    pub fn tool_reliability(&self) -> f64 {
        ratio(self.tool_success, self.tool_error)
    }
    pub fn scheduler_rate(&self) -> f64 {
        ratio(
            self.scheduler_success,
            self.scheduler_runs.saturating_sub(self.scheduler_success),
        )
    }
    /// How fast the success-rate error budget burns: error ratio / (1 - target). 0 with no data.
    pub fn burn_rate(&self) -> f64 {
        if self.requests() == 0 {
            0.0
        } else {
            (1.0 - self.success_rate()) / (1.0 - SUCCESS_TARGET)
        }
    }
}

/// Every window the summary and the alerts need, computed in one pass over the rows.
#[derive(Debug, Clone)]
pub struct SloReport {
    pub computed_at: i64,
    pub value_window_minutes: u32,
    /// The `value` window (config `metrics.slo_window_minutes`, default 60).
    pub value: WindowValues,
    pub reported: Vec<(&'static str, WindowValues)>,
    pub alert_windows: Vec<(&'static str, WindowValues)>,
    pub budget: WindowValues,
    /// Every computed window by its length in minutes (the ones above and any extra ones).
    pub by_minutes: Vec<(u32, WindowValues)>,
}

/// `value` of an SLO: `null` without samples (decisions.md: never a healthy-looking 1.0).
fn value_or_null(samples: u64, v: Value) -> Value {
    if samples == 0 {
        Value::Null
    } else {
        v
    }
}

/// `"no_data"` without samples, else `"ok"` (the engine marks firing SLOs `"burning"`).
fn state(samples: u64) -> &'static str {
    if samples == 0 {
        "no_data"
    } else {
        "ok"
    }
}

impl SloReport {
    /// Every window length (minutes) a report needs, in the order
    /// [`from_aggregates`](Self::from_aggregates) takes their aggregates.
    pub fn window_minutes(value_window_minutes: u32) -> Vec<u32> {
        let mut minutes: Vec<u32> = vec![value_window_minutes.max(1), BUDGET_DAYS * 1440];
        minutes.extend(REPORTED.iter().map(|(_, m)| *m));
        minutes.extend(ALERT_ONLY.iter().map(|(_, m)| *m));
        minutes
    }

    /// `rows`: minute deltas (ascending or not) covering at least the budget period;
    /// `live`: what has not been flushed yet. The reference computation (a scan of every
    /// minute); the engine computes the same from rollups.
    pub fn compute(
        rows: &[(i64, Delta)],
        live: &Delta,
        now_ms: i64,
        value_window_minutes: u32,
    ) -> SloReport {
        let minutes = Self::window_minutes(value_window_minutes);
        let aggs = trailing_windows(rows, live, now_ms, &minutes);
        Self::from_aggregates(&aggs, now_ms, value_window_minutes)
    }

    /// The report from one aggregate per entry of [`window_minutes`](Self::window_minutes).
    pub fn from_aggregates(
        aggs: &[Aggregate],
        now_ms: i64,
        value_window_minutes: u32,
    ) -> SloReport {
        Self::from_aggregates_extra(aggs, now_ms, value_window_minutes, &[])
    }

    /// As [`from_aggregates`](Self::from_aggregates) with `extra` windows: `aggs` holds one
    /// aggregate per [`window_minutes`](Self::window_minutes) entry, then one per `extra`.
    pub fn from_aggregates_extra(
        aggs: &[Aggregate],
        now_ms: i64,
        value_window_minutes: u32,
        extra: &[u32],
    ) -> SloReport {
        let mut all = Self::window_minutes(value_window_minutes);
        all.extend_from_slice(extra);
        let by_minutes = all
            .iter()
            .zip(aggs)
            .map(|(m, a)| (*m, WindowValues::from_aggregate(a)))
            .collect();
        let vals: Vec<WindowValues> = aggs.iter().map(WindowValues::from_aggregate).collect();
        let get = |i: usize| vals.get(i).cloned().unwrap_or_default();
        let reported = REPORTED
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (*n, get(2 + i)))
            .collect();
        let alert_windows = ALERT_ONLY
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (*n, get(2 + REPORTED.len() + i)))
            .collect();
        SloReport {
            computed_at: now_ms,
            value_window_minutes: value_window_minutes.max(1),
            value: get(0),
            budget: get(1),
            reported,
            alert_windows,
            by_minutes,
        }
    }

    /// The trailing `minutes` window, when it was computed (else empty values).
    pub fn minutes(&self, minutes: u32) -> WindowValues {
        self.by_minutes
            .iter()
            .find(|(m, _)| *m == minutes)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// A window by name ("5m", "30m", "1h", "6h", "24h", "7d").
    pub fn window(&self, name: &str) -> Option<&WindowValues> {
        self.reported
            .iter()
            .chain(self.alert_windows.iter())
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    fn windows_json(&self, f: impl Fn(&WindowValues) -> Value) -> Value {
        Value::Object(
            self.reported
                .iter()
                .map(|(n, v)| (n.to_string(), f(v)))
                .collect::<Map<_, _>>(),
        )
    }

    /// The `slo` object of `/api/metrics/summary`. Without samples an SLO's `value` is
    /// `null` and its `state` `"no_data"`.
    pub fn slo_json(&self) -> Value {
        let v = &self.value;
        let week = self.window("7d").cloned().unwrap_or_default();
        let tools = |w: &WindowValues| w.tool_success + w.tool_error;
        json!({
            "request_success_rate": {
                "value": value_or_null(v.requests(), json!(v.success_rate())),
                "state": state(v.requests()),
                "target": SUCCESS_TARGET, "burn_alert": SUCCESS_ALERT,
                "sample_size": v.requests(), "window_minutes": self.value_window_minutes,
                "windows": self.windows_json(|w| json!({
                    "value": value_or_null(w.requests(), json!(w.success_rate())),
                    "sample_size": w.requests(), "burn_rate": w.burn_rate() })),
            },
            "e2e_latency_p95_ms": {
                "value": value_or_null(v.latency_samples, json!(v.latency_p95_ms)),
                "state": state(v.latency_samples),
                "target": LATENCY_TARGET_MS, "burn_alert": LATENCY_ALERT_MS,
                "sample_size": v.latency_samples, "window_minutes": self.value_window_minutes,
                "windows": self.windows_json(|w| json!({
                    "value": value_or_null(w.latency_samples, json!(w.latency_p95_ms)),
                    "sample_size": w.latency_samples })),
            },
            "tool_reliability": {
                "value": value_or_null(tools(v), json!(v.tool_reliability())),
                "state": state(tools(v)),
                "target": TOOL_TARGET, "burn_alert": TOOL_ALERT,
                "success": v.tool_success, "error": v.tool_error, "policy_block_excluded": v.tool_blocks,
                "sample_size": tools(v),
                "windows": self.windows_json(|w| json!({
                    "value": value_or_null(tools(w), json!(w.tool_reliability())),
                    "sample_size": tools(w) })),
            },
            "scheduler_recoverability_7d": {
                "value": value_or_null(week.scheduler_runs, json!(week.scheduler_rate())),
                "state": state(week.scheduler_runs),
                "target": SCHEDULER_TARGET, "burn_alert": SCHEDULER_ALERT,
                "runs_7d": week.scheduler_runs, "success_7d": week.scheduler_success,
                "sample_size": week.scheduler_runs,
            },
        })
    }

    /// The `error_budget` object: each SLO's budget over its own period (`window_days`).
    /// Without samples `remaining_ratio` is `null` and `state` `"no_data"`; a spent budget
    /// has `remaining_ratio` 0, `consumed_ratio` above 1 and `state` `"exhausted"`.
    pub fn error_budget_json(&self, defs: &[crate::slo_file::SloDef]) -> Value {
        let mut out = Map::new();
        for def in defs {
            let w = self.minutes(def.window_days * 1440);
            let (good, total) = crate::alert_rules::sli_counts(def, &w);
            let allowed = (1.0 - def.objective) * total as f64;
            let consumed = (total - good) as f64;
            let consumed_ratio = if total == 0 {
                Value::Null
            } else if allowed <= 0.0 {
                json!(if consumed > 0.0 { f64::INFINITY } else { 0.0 })
            } else {
                json!(consumed / allowed)
            };
            let ratio = consumed_ratio.as_f64();
            out.insert(def.name.clone(), json!({
                "period_days": def.window_days, "objective": def.objective,
                "allowed": allowed, "consumed": consumed,
                "consumed_ratio": consumed_ratio,
                "remaining_ratio": ratio.map(|r| (1.0 - r).clamp(0.0, 1.0)),
                "state": match ratio { None => "no_data", Some(r) if r >= 1.0 => "exhausted", Some(_) => "ok" },
                "sample_size": total,
            }));
        }
        Value::Object(out)
    }
}
