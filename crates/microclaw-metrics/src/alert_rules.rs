//! Alert rules built from the SLO definitions: one burn-rate rule per `[[slo.alert]]` (both
//! windows above `factor`, the long window holding at least `min_samples`), plus the runbook's
//! threshold rules on the built-in latency and tool SLOs (their 60-minute value crossing
//! `burn_alert`). Evaluating a rule against the windows gives an [`Observation`].

use crate::slo::{self, WindowValues};
use crate::slo_file::{format_minutes, SloDef};

/// What a rule compares.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// Burn rate of the SLO's error budget over both windows above `factor`.
    Burn {
        long_minutes: u32,
        short_minutes: u32,
        factor: f64,
    },
    /// The built-in latency p95 above this many ms over the value window.
    LatencyAbove { ms: u64 },
    /// The built-in tool reliability below this ratio over the value window.
    ToolBelow { ratio: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// `<slo>:<severity>:<window>`, e.g. `request_success_rate:page:1h/5m`.
    pub id: String,
    pub slo: String,
    pub severity: String,
    /// `"1h/5m"` for burn rules, `"60m"` for threshold rules.
    pub window: String,
    pub kind: RuleKind,
    pub for_ms: i64,
    pub keep_firing_for_ms: i64,
    pub min_samples: u64,
    /// The SLO this rule belongs to (objective and SLI).
    pub def: SloDef,
}

/// One evaluation of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub condition: bool,
    /// Burn rate over the long window (threshold rules: the offending value).
    pub burn_rate: f64,
    /// Burn rate over the short window (threshold rules: the same value).
    pub burn_rate_short: f64,
    /// Samples in the long window.
    pub samples: u64,
}

/// Good and total events of `def`'s SLI in a window.
pub fn sli_counts(def: &SloDef, w: &WindowValues) -> (u64, u64) {
    match def.sli.as_str() {
        "request_success" => (w.ok, w.requests()),
        "e2e_latency" => {
            let t = def.threshold_ms.unwrap_or(slo::LATENCY_TARGET_MS);
            (w.latency.count_le(t), w.latency.count())
        }
        "tool_reliability" => (w.tool_success, w.tool_success + w.tool_error),
        "scheduler_recoverability" => (w.scheduler_success.min(w.scheduler_runs), w.scheduler_runs),
        _ => (0, 0),
    }
}

/// The SLI's value in a window; `None` without samples.
pub fn sli_value(def: &SloDef, w: &WindowValues) -> Option<f64> {
    let (good, total) = sli_counts(def, w);
    (total > 0).then(|| good as f64 / total as f64)
}

/// How fast the window burns `def`'s budget: error ratio / (1 − objective); 0 without samples.
pub fn burn_rate(def: &SloDef, w: &WindowValues) -> f64 {
    let (good, total) = sli_counts(def, w);
    if total == 0 {
        return 0.0;
    }
    let bad = (total - good) as f64 / total as f64;
    bad / (1.0 - def.objective).max(1e-9)
}

/// Every rule of `defs`, in file order.
pub fn rules(defs: &[SloDef]) -> Vec<Rule> {
    let mut out = Vec::new();
    for def in defs {
        for a in &def.alerts {
            let window = a.window();
            out.push(Rule {
                id: format!("{}:{}:{window}", def.name, a.severity),
                slo: def.name.clone(),
                severity: a.severity.clone(),
                window,
                kind: RuleKind::Burn {
                    long_minutes: a.long_minutes,
                    short_minutes: a.short_minutes,
                    factor: a.factor,
                },
                for_ms: a.for_ms,
                keep_firing_for_ms: a.keep_firing_for_ms,
                min_samples: def.min_samples,
                def: def.clone(),
            });
        }
        let threshold = match (def.name.as_str(), def.sli.as_str()) {
            ("e2e_latency_p95_ms", "e2e_latency") => Some(RuleKind::LatencyAbove {
                ms: slo::LATENCY_ALERT_MS,
            }),
            ("tool_reliability", "tool_reliability") => Some(RuleKind::ToolBelow {
                ratio: slo::TOOL_ALERT,
            }),
            _ => None,
        };
        if let Some(kind) = threshold {
            let (for_ms, keep) = def
                .alerts
                .first()
                .map(|a| (a.for_ms, a.keep_firing_for_ms))
                .unwrap_or((120_000, 300_000));
            out.push(Rule {
                id: format!("{}:ticket:threshold", def.name),
                slo: def.name.clone(),
                severity: "ticket".into(),
                window: "value".into(),
                kind,
                for_ms,
                keep_firing_for_ms: keep,
                min_samples: def.min_samples,
                def: def.clone(),
            });
        }
    }
    out
}

impl Rule {
    /// The window lengths (minutes) this rule reads; threshold rules read the value window.
    pub fn minutes(&self, value_window: u32) -> Vec<u32> {
        match self.kind {
            RuleKind::Burn {
                long_minutes,
                short_minutes,
                ..
            } => vec![long_minutes, short_minutes],
            _ => vec![value_window],
        }
    }

    /// Evaluates the rule; `window(m)` gives the values of the trailing `m` minutes.
    pub fn observe(&self, value_window: u32, window: impl Fn(u32) -> WindowValues) -> Observation {
        match self.kind {
            RuleKind::Burn {
                long_minutes,
                short_minutes,
                factor,
            } => {
                let (long, short) = (window(long_minutes), window(short_minutes));
                let samples = sli_counts(&self.def, &long).1;
                let (bl, bs) = (burn_rate(&self.def, &long), burn_rate(&self.def, &short));
                Observation {
                    condition: samples >= self.min_samples.max(1) && bl > factor && bs > factor,
                    burn_rate: bl,
                    burn_rate_short: bs,
                    samples,
                }
            }
            RuleKind::LatencyAbove { ms } => {
                let w = window(value_window);
                let samples = w.latency_samples;
                let v = w.latency_p95_ms as f64;
                Observation {
                    condition: samples >= self.min_samples.max(1) && w.latency_p95_ms > ms,
                    burn_rate: v,
                    burn_rate_short: v,
                    samples,
                }
            }
            RuleKind::ToolBelow { ratio } => {
                let w = window(value_window);
                let samples = w.tool_success + w.tool_error;
                let v = w.tool_reliability();
                Observation {
                    condition: samples >= self.min_samples.max(1) && v < ratio,
                    burn_rate: v,
                    burn_rate_short: v,
                    samples,
                }
            }
        }
    }

    /// The threshold the rule compares against (`factor` for burn rules).
    pub fn threshold(&self) -> f64 {
        match self.kind {
            RuleKind::Burn { factor, .. } => factor,
            RuleKind::LatencyAbove { ms } => ms as f64,
            RuleKind::ToolBelow { ratio } => ratio,
        }
    }

    /// The windows as shown: `["1h", "5m"]` or `["60m"]`.
    pub fn window_names(&self, value_window: u32) -> Vec<String> {
        self.minutes(value_window)
            .into_iter()
            .map(format_minutes)
            .collect()
    }
}
