//! Evaluating the alert rules on the metrics engine: the windows they read (rule windows and
//! SLO budget periods included), the transitions they make (stored in `alert_transitions`,
//! then broadcast), and the SLO definitions in use.

use microclaw_core::Result;
use microclaw_store::alert_transitions::TransitionQuery;

use crate::alerts::{AlertEvent, AlertTracker, RuleStatus};
use crate::engine::MetricsEngine;
use crate::slo::SloReport;
use crate::slo_file::SloDef;

/// Transition rows kept (the oldest beyond this are pruned as new ones land).
pub const TRANSITIONS_KEPT: i64 = 10_000;

impl MetricsEngine {
    /// Replaces the SLO definitions (the `slos.toml` in use). Rule states start over.
    /// Rules that were pending or firing when the process stopped continue from that state
    /// (read from `alert_transitions`).
    pub fn set_slo_defs(&self, defs: Vec<SloDef>) {
        let mut tracker = AlertTracker::new(defs);
        for rule in tracker.rule_ids() {
            let q = TransitionQuery {
                rule: Some(rule.clone()),
                limit: 1,
                ..Default::default()
            };
            match self.store.alert_transitions_list(&q) {
                Ok(rows) => {
                    if let Some(t) = rows.first() {
                        tracker.restore(&rule, &t.state, t.since, t.at);
                    }
                }
                Err(e) => tracing::warn!(rule = %rule, "could not restore the alert state: {e}"),
            }
        }
        *self.alerts.lock() = tracker;
    }

    pub fn slo_defs(&self) -> Vec<SloDef> {
        self.alerts.lock().defs().to_vec()
    }

    /// The SLO report with every window the rules and budgets read.
    pub(crate) fn alert_report(&self) -> Result<SloReport> {
        let now = self.clock.now_ms();
        let vw = self.cfg.slo_window_minutes;
        let extra = self.alerts.lock().minutes(vw.max(1));
        let mut minutes = SloReport::window_minutes(vw);
        minutes.extend_from_slice(&extra);
        let aggs = self.window_aggregates(now, &minutes)?;
        Ok(SloReport::from_aggregates_extra(&aggs, now, vw, &extra))
    }

    /// Recomputes the windows and publishes alert transitions.
    pub fn evaluate_alerts(&self) -> Result<Vec<AlertEvent>> {
        let report = self.alert_report()?;
        Ok(self.apply_alerts(&report))
    }

    /// Steps every rule at the report's time; stores, logs and broadcasts the transitions.
    pub(crate) fn apply_alerts(&self, report: &SloReport) -> Vec<AlertEvent> {
        let now = report.computed_at;
        let events = self
            .alerts
            .lock()
            .evaluate(now, report.value_window_minutes, |m| report.minutes(m));
        for e in &events {
            tracing::info!(rule = %e.rule, state = %e.state, from = %e.from, burn_rate = e.burn_rate, "slo alert");
            let row = microclaw_store::alert_transitions::TransitionRow {
                id: 0,
                rule: e.rule.clone(),
                slo: e.slo.clone(),
                severity: e.severity.clone(),
                from_state: e.from.clone(),
                state: e.state.clone(),
                window: e.window.clone(),
                burn_rate: e.burn_rate,
                burn_rate_short: e.burn_rate_short,
                threshold: e.threshold,
                samples: e.samples as i64,
                since: e.since,
                at: e.at,
            };
            if let Err(err) = self.store.alert_transition_insert(&row, TRANSITIONS_KEPT) {
                tracing::warn!(error = %err, rule = %e.rule, "could not store an alert transition");
            }
            let _ = self.alert_tx.send(e.clone()); // no subscriber is fine
        }
        events
    }

    /// Every rule's current state (`GET /api/alerts` `rules`).
    pub fn alert_statuses(&self) -> Vec<RuleStatus> {
        self.alerts
            .lock()
            .statuses(self.cfg.slo_window_minutes.max(1))
    }
}
