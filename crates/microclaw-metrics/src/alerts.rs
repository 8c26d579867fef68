//! Burn-rate and threshold alerts, and their firing/resolved transitions.
//!
//! Multi-window, multi-burn-rate on the success-rate budget (Google SRE workbook):
//! page when the 1 h and 5 m burn rates are both > 14.4; ticket when the 6 h and 30 m burn
//! rates are both > 6. Latency p95, tool reliability and scheduler recoverability fire as
//! tickets when their value over the SLO window (default 60 min) crosses its threshold.
//! Nothing fires on a window without samples.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::slo::{self, SloReport};

pub const PAGE_BURN: f64 = 14.4;
pub const TICKET_BURN: f64 = 6.0;

/// A firing alert (the summary's `alerts` entries).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub slo: String,
    pub severity: String,
    pub window: String,
    /// Burn rate for burn alerts; the offending value for threshold alerts.
    pub burn_rate: f64,
    /// When it started firing (epoch ms).
    pub since: i64,
}

/// An alert started (`state: "firing"`) or cleared (`state: "resolved"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEvent {
    pub slo: String,
    pub state: String,
    pub severity: String,
    pub window: String,
    pub burn_rate: f64,
    pub since: i64,
    /// When this transition was seen (epoch ms).
    pub at: i64,
}

/// The alert conditions that hold in `report`: (slo, severity, window, burn_rate/value).
pub fn conditions(report: &SloReport) -> Vec<(&'static str, &'static str, &'static str, f64)> {
    let mut out = Vec::new();
    let burn = |n: &str| report.window(n).map(|w| w.burn_rate()).unwrap_or(0.0);
    let (b1h, b5m, b6h, b30m) = (burn("1h"), burn("5m"), burn("6h"), burn("30m"));
    if b1h > PAGE_BURN && b5m > PAGE_BURN {
        out.push(("request_success_rate", "page", "1h+5m", b1h));
    }
    if b6h > TICKET_BURN && b30m > TICKET_BURN {
        out.push(("request_success_rate", "ticket", "6h+30m", b6h));
    }
    let v = &report.value;
    if v.latency_samples > 0 && v.latency_p95_ms > slo::LATENCY_ALERT_MS {
        out.push((
            "e2e_latency_p95_ms",
            "ticket",
            "60m",
            v.latency_p95_ms as f64,
        ));
    }
    if v.tool_success + v.tool_error > 0 && v.tool_reliability() < slo::TOOL_ALERT {
        out.push(("tool_reliability", "ticket", "60m", v.tool_reliability()));
    }
    if v.scheduler_runs > 0 && v.scheduler_rate() < slo::SCHEDULER_ALERT {
        out.push((
            "scheduler_recoverability_7d",
            "ticket",
            "60m",
            v.scheduler_rate(),
        ));
    }
    out
}

/// Which alerts are firing; turns each evaluation into transition events.
#[derive(Debug, Default)]
pub struct AlertTracker {
    firing: BTreeMap<(String, String), Alert>,
}

impl AlertTracker {
    /// Applies the conditions of `report`; returns the events (started, then cleared).
    pub fn evaluate(&mut self, report: &SloReport) -> Vec<AlertEvent> {
        let now = report.computed_at;
        let current = conditions(report);
        let mut events = Vec::new();
        for (slo, severity, window, rate) in &current {
            let key = (slo.to_string(), severity.to_string());
            match self.firing.get_mut(&key) {
                Some(alert) => alert.burn_rate = *rate,
                None => {
                    let alert = Alert {
                        slo: slo.to_string(),
                        severity: severity.to_string(),
                        window: window.to_string(),
                        burn_rate: *rate,
                        since: now,
                    };
                    events.push(event(&alert, "firing", now));
                    self.firing.insert(key, alert);
                }
            }
        }
        let cleared: Vec<(String, String)> = self
            .firing
            .keys()
            .filter(|(s, sev)| {
                !current
                    .iter()
                    .any(|(cs, csev, _, _)| cs == s && csev == sev)
            })
            .cloned()
            .collect();
        for key in cleared {
            if let Some(alert) = self.firing.remove(&key) {
                events.push(event(&alert, "resolved", now));
            }
        }
        events
    }

    pub fn firing(&self) -> Vec<Alert> {
        self.firing.values().cloned().collect()
    }
}

fn event(a: &Alert, state: &str, at: i64) -> AlertEvent {
    AlertEvent {
        slo: a.slo.clone(),
        state: state.into(),
        severity: a.severity.clone(),
        window: a.window.clone(),
        burn_rate: a.burn_rate,
        since: a.since,
        at,
    }
}
