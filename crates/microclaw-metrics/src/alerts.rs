//! The alert tracker: the rules of the SLO definitions (see `alert_rules`), each with its
//! state (`alert_state`), evaluated together. It is the one source of truth for alert state:
//! the summary's `alerts` and SLO `state`, `GET /api/alerts`, `slo.alert` events, the status
//! brief and the tray all read it. Nothing fires on a window with fewer than `min_samples`.

use serde::Serialize;

use crate::alert_rules::{self, Rule};
use crate::alert_state::{AlertState, RuleState};
use crate::slo::WindowValues;
use crate::slo_file::SloDef;

/// A firing alert (the summary's `alerts` entries).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub rule: String,
    pub slo: String,
    pub severity: String,
    pub window: String,
    /// Burn rate over the long window for burn alerts; the offending value for threshold alerts.
    pub burn_rate: f64,
    /// When it started firing (epoch ms).
    pub since: i64,
}

/// A transition of one rule: `state` is the state entered (`pending`, `firing`, `resolved`,
/// `inactive`), `from` the one left.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEvent {
    pub rule: String,
    pub slo: String,
    pub state: String,
    pub from: String,
    pub severity: String,
    pub window: String,
    pub burn_rate: f64,
    pub burn_rate_short: f64,
    pub threshold: f64,
    pub samples: u64,
    /// Firing and resolved: when it started firing; pending and inactive: when pending began.
    pub since: i64,
    /// When this transition was seen (epoch ms).
    pub at: i64,
}

/// A rule's current state (`GET /api/alerts` `rules[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleStatus {
    pub rule: String,
    pub slo: String,
    pub severity: String,
    pub window: String,
    pub windows: Vec<String>,
    pub state: String,
    pub since: i64,
    pub fired_at: Option<i64>,
    pub burn_rate: f64,
    pub burn_rate_short: f64,
    pub threshold: f64,
    pub samples: u64,
    pub min_samples: u64,
    pub for_ms: i64,
    pub keep_firing_for_ms: i64,
}

#[derive(Debug)]
struct Tracked {
    rule: Rule,
    state: RuleState,
    fired_at: Option<i64>,
}

/// Every rule with its state.
#[derive(Debug)]
pub struct AlertTracker {
    defs: Vec<SloDef>,
    rules: Vec<Tracked>,
}

impl Default for AlertTracker {
    fn default() -> Self {
        AlertTracker::new(crate::slo_file::builtin())
    }
}

impl AlertTracker {
    pub fn new(defs: Vec<SloDef>) -> Self {
        let rules = alert_rules::rules(&defs)
            .into_iter()
            .map(|rule| Tracked {
                rule,
                state: RuleState::default(),
                fired_at: None,
            })
            .collect();
        AlertTracker { defs, rules }
    }

    pub fn defs(&self) -> &[SloDef] {
        &self.defs
    }

    /// Every window length (minutes) the rules and the SLO budgets read.
    pub fn minutes(&self, value_window: u32) -> Vec<u32> {
        let mut m: Vec<u32> = self
            .rules
            .iter()
            .flat_map(|t| t.rule.minutes(value_window))
            .chain(self.defs.iter().map(|d| d.window_days * 1440))
            .collect();
        m.sort_unstable();
        m.dedup();
        m
    }

    /// Applies one evaluation at `now`; `window(m)` gives the trailing `m` minutes' values.
    /// Returns the transitions, in rule order.
    pub fn evaluate(
        &mut self,
        now: i64,
        value_window: u32,
        window: impl Fn(u32) -> WindowValues,
    ) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        for t in &mut self.rules {
            let obs = t.rule.observe(value_window, &window);
            let Some(step) =
                t.state
                    .step(obs.clone(), now, t.rule.for_ms, t.rule.keep_firing_for_ms)
            else {
                continue;
            };
            if step.to == AlertState::Firing {
                t.fired_at = Some(now);
            }
            let since = match step.to {
                AlertState::Firing | AlertState::Resolved => t.fired_at.unwrap_or(now),
                _ => t.state.active_at.unwrap_or(now),
            };
            events.push(AlertEvent {
                rule: t.rule.id.clone(),
                slo: t.rule.slo.clone(),
                state: step.to.as_str().into(),
                from: step.from.as_str().into(),
                severity: t.rule.severity.clone(),
                window: t.rule.window.clone(),
                burn_rate: obs.burn_rate,
                burn_rate_short: obs.burn_rate_short,
                threshold: t.rule.threshold(),
                samples: obs.samples,
                since,
                at: now,
            });
        }
        events
    }

    /// Puts `rule` back in `state` as stored before a restart (a firing alert keeps firing,
    /// and so resolves, and lifts what it caused, once its condition clears). Unknown rules and
    /// states are ignored.
    pub fn restore(&mut self, rule: &str, state: &str, since: i64, at: i64) {
        let st = match state {
            "pending" => AlertState::Pending,
            "firing" => AlertState::Firing,
            _ => return,
        };
        if let Some(t) = self.rules.iter_mut().find(|t| t.rule.id == rule) {
            t.state.state = st;
            t.state.since = at;
            t.state.active_at = Some(since.min(at));
            if st == AlertState::Firing {
                t.fired_at = Some(since);
            }
        }
    }

    /// The rule ids, in file order.
    pub fn rule_ids(&self) -> Vec<String> {
        self.rules.iter().map(|t| t.rule.id.clone()).collect()
    }

    pub fn firing(&self) -> Vec<Alert> {
        self.rules
            .iter()
            .filter(|t| t.state.state == AlertState::Firing)
            .map(|t| Alert {
                rule: t.rule.id.clone(),
                slo: t.rule.slo.clone(),
                severity: t.rule.severity.clone(),
                window: t.rule.window.clone(),
                burn_rate: t.state.last.as_ref().map(|o| o.burn_rate).unwrap_or(0.0),
                since: t.fired_at.unwrap_or(t.state.since),
            })
            .collect()
    }

    pub fn statuses(&self, value_window: u32) -> Vec<RuleStatus> {
        self.rules
            .iter()
            .map(|t| {
                let last = t.state.last.clone();
                RuleStatus {
                    rule: t.rule.id.clone(),
                    slo: t.rule.slo.clone(),
                    severity: t.rule.severity.clone(),
                    window: t.rule.window.clone(),
                    windows: t.rule.window_names(value_window),
                    state: t.state.state.as_str().into(),
                    since: t.state.since,
                    fired_at: t.fired_at,
                    burn_rate: last.as_ref().map(|o| o.burn_rate).unwrap_or(0.0),
                    burn_rate_short: last.as_ref().map(|o| o.burn_rate_short).unwrap_or(0.0),
                    threshold: t.rule.threshold(),
                    samples: last.as_ref().map(|o| o.samples).unwrap_or(0),
                    min_samples: t.rule.min_samples,
                    for_ms: t.rule.for_ms,
                    keep_firing_for_ms: t.rule.keep_firing_for_ms,
                }
            })
            .collect()
    }

    /// The worst state among `slo`'s rules: firing > pending > resolved > inactive.
    pub fn slo_state(&self, slo: &str) -> AlertState {
        let rank = |s: AlertState| match s {
            AlertState::Firing => 3,
            AlertState::Pending => 2,
            AlertState::Resolved => 1,
            AlertState::Inactive => 0,
        };
        self.rules
            .iter()
            .filter(|t| t.rule.slo == slo)
            .map(|t| t.state.state)
            .max_by_key(|s| rank(*s))
            .unwrap_or(AlertState::Inactive)
    }
}
