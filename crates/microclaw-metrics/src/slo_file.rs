//! The SLO definition file (`<data_dir>/slos.toml`, decisions.md): `[[slo]] name, objective,
//! window_days, sli, threshold_ms, min_samples` with `[[slo.alert]] long, short, factor,
//! severity, for, keep_firing_for`. Parsed and validated here; every error names the line.
//! The built-in SLOs are [`DEFAULT_SLOS_TOML`], the file used when none exists.

use serde::Deserialize;
use toml::Spanned;

/// The built-in SLOs, as a file: the multi-window multi-burn-rate tiers of the SRE workbook.
pub const DEFAULT_SLOS_TOML: &str = include_str!("default_slos.toml");

/// The SLIs a file may name.
pub const SLIS: [&str; 4] = [
    "request_success",
    "e2e_latency",
    "tool_reliability",
    "scheduler_recoverability",
];

#[derive(Debug, Clone, PartialEq)]
pub struct SloDef {
    pub name: String,
    pub objective: f64,
    pub window_days: u32,
    pub sli: String,
    /// Latency SLIs: a request is good when it took at most this long.
    pub threshold_ms: Option<u64>,
    /// Samples the long window needs before any of this SLO's alerts may fire.
    pub min_samples: u64,
    pub alerts: Vec<AlertDef>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlertDef {
    pub long_minutes: u32,
    pub short_minutes: u32,
    pub factor: f64,
    /// `page` | `ticket`.
    pub severity: String,
    /// How long the condition must hold before pending becomes firing.
    pub for_ms: i64,
    /// How long a firing alert stays firing after the condition cleared.
    pub keep_firing_for_ms: i64,
}

impl AlertDef {
    /// `"1h/5m"`.
    pub fn window(&self) -> String {
        format!(
            "{}/{}",
            format_minutes(self.long_minutes),
            format_minutes(self.short_minutes)
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    slo: Vec<Spanned<RawSlo>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlo {
    name: Spanned<String>,
    objective: Spanned<f64>,
    window_days: Option<Spanned<i64>>,
    sli: Spanned<String>,
    threshold_ms: Option<Spanned<i64>>,
    min_samples: Option<Spanned<i64>>,
    #[serde(default)]
    alert: Vec<Spanned<RawAlert>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlert {
    long: Spanned<String>,
    short: Spanned<String>,
    factor: Spanned<f64>,
    severity: Spanned<String>,
    #[serde(rename = "for")]
    for_: Option<Spanned<String>>,
    keep_firing_for: Option<Spanned<String>>,
}

/// Default `for`: the condition must hold this long before an alert fires.
pub const DEFAULT_FOR: &str = "2m";
/// Default `keep_firing_for`: a cleared condition keeps firing this long (no flapping).
pub const DEFAULT_KEEP_FIRING_FOR: &str = "5m";
/// Default minimum samples in the long window (decisions.md).
pub const DEFAULT_MIN_SAMPLES: u64 = 30;

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn err_at(file: &str, text: &str, span: std::ops::Range<usize>, msg: String) -> String {
    format!("{file} line {}: {msg}", line_of(text, span.start))
}

/// `"5m"`, `"1h"`, `"3d"`, `"30s"` (whole units) → milliseconds.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

/// `4320` → `"3d"`, `90` → `"90m"`.
pub fn format_minutes(m: u32) -> String {
    if m % 1440 == 0 {
        format!("{}d", m / 1440)
    } else if m % 60 == 0 {
        format!("{}h", m / 60)
    } else {
        format!("{m}m")
    }
}

/// Parses and validates an SLO file; `file` names it in the errors (`"slos.toml line 7: …"`).
/// Every problem found is listed, one per entry.
pub fn parse(file: &str, text: &str) -> Result<Vec<SloDef>, Vec<String>> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        vec![format!("{file} line {line}: {}", e.message().trim())]
    })?;
    let mut errors = Vec::new();
    let mut out: Vec<SloDef> = Vec::new();
    for slo in raw.slo {
        let span = slo.span();
        let slo = slo.into_inner();
        if let Some(def) = check_slo(file, text, span, slo, &mut errors) {
            if out.iter().any(|d| d.name == def.name) {
                errors.push(format!(
                    "{file}: SLO name '{}' is defined twice; names must be unique",
                    def.name
                ));
            }
            out.push(def);
        }
    }
    if out.is_empty() && errors.is_empty() {
        errors.push(format!(
            "{file} line 1: no [[slo]] entries; expected at least one (see docs/metrics.md)"
        ));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn check_slo(
    file: &str,
    text: &str,
    span: std::ops::Range<usize>,
    s: RawSlo,
    errors: &mut Vec<String>,
) -> Option<SloDef> {
    let before = errors.len();
    let mut bad =
        |sp: std::ops::Range<usize>, msg: String| errors.push(err_at(file, text, sp, msg));
    let name = s.name.get_ref().trim().to_string();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        bad(
            s.name.span(),
            format!("name '{name}' must be letters, digits, '_' or '-'"),
        );
    }
    let objective = *s.objective.get_ref();
    if !(objective > 0.0 && objective < 1.0) {
        bad(
            s.objective.span(),
            format!("objective {objective} must be between 0 and 1 (exclusive), e.g. 0.995"),
        );
    }
    let window_days = s.window_days.as_ref().map(|w| *w.get_ref()).unwrap_or(28);
    if !(1..=90).contains(&window_days) {
        let sp = s
            .window_days
            .as_ref()
            .map(|w| w.span())
            .unwrap_or(span.clone());
        bad(sp, format!("window_days {window_days} must be 1..=90"));
    }
    let sli = s.sli.get_ref().clone();
    if !SLIS.contains(&sli.as_str()) {
        bad(
            s.sli.span(),
            format!(
                "sli '{sli}' is not known; expected one of {}",
                SLIS.join(", ")
            ),
        );
    }
    let threshold_ms = match (&s.threshold_ms, sli.as_str()) {
        (Some(t), "e2e_latency") if *t.get_ref() > 0 => Some(*t.get_ref() as u64),
        (Some(t), "e2e_latency") => {
            bad(
                t.span(),
                format!("threshold_ms {} must be > 0", t.get_ref()),
            );
            None
        }
        (None, "e2e_latency") => {
            bad(
                s.sli.span(),
                "sli 'e2e_latency' needs threshold_ms (the latency a good request stays within)"
                    .into(),
            );
            None
        }
        (Some(t), _) => {
            bad(
                t.span(),
                format!("threshold_ms only applies to sli 'e2e_latency', not '{sli}'"),
            );
            None
        }
        (None, _) => None,
    };
    let min_samples = match &s.min_samples {
        Some(m) if *m.get_ref() >= 0 => *m.get_ref() as u64,
        Some(m) => {
            bad(
                m.span(),
                format!("min_samples {} must be >= 0", m.get_ref()),
            );
            0
        }
        None => DEFAULT_MIN_SAMPLES,
    };
    let window_minutes = window_days.clamp(1, 90) as u32 * 1440;
    let mut alerts = Vec::new();
    for a in s.alert {
        if let Some(def) = check_alert(file, text, a.into_inner(), window_minutes, errors) {
            alerts.push(def);
        }
    }
    (errors.len() == before).then_some(SloDef {
        name,
        objective,
        window_days: window_days as u32,
        sli,
        threshold_ms,
        min_samples,
        alerts,
    })
}

fn check_alert(
    file: &str,
    text: &str,
    a: RawAlert,
    window_minutes: u32,
    errors: &mut Vec<String>,
) -> Option<AlertDef> {
    let before = errors.len();
    let mut bad =
        |sp: std::ops::Range<usize>, msg: String| errors.push(err_at(file, text, sp, msg));
    let mut minutes = |v: &Spanned<String>, what: &str| -> u32 {
        match parse_duration_ms(v.get_ref()) {
            Some(ms)
                if ms >= 60_000 && ms % 60_000 == 0 && ms / 60_000 <= i64::from(window_minutes) =>
            {
                (ms / 60_000) as u32
            }
            _ => {
                bad(v.span(), format!(
                    "{what} '{}' must be whole minutes like \"5m\", \"1h\" or \"3d\", at least 1m and at most the SLO window",
                    v.get_ref()
                ));
                0
            }
        }
    };
    let long_minutes = minutes(&a.long, "long");
    let short_minutes = minutes(&a.short, "short");
    if long_minutes > 0 && short_minutes > 0 && short_minutes >= long_minutes {
        bad(
            a.short.span(),
            format!(
                "short window '{}' must be shorter than the long window '{}'",
                a.short.get_ref(),
                a.long.get_ref()
            ),
        );
    }
    let factor = *a.factor.get_ref();
    if !(factor > 0.0 && factor.is_finite()) {
        bad(
            a.factor.span(),
            format!("factor {factor} must be > 0 (a burn rate, e.g. 14.4)"),
        );
    }
    let severity = a.severity.get_ref().clone();
    if severity != "page" && severity != "ticket" {
        bad(
            a.severity.span(),
            format!("severity '{severity}' must be \"page\" or \"ticket\""),
        );
    }
    let mut dur = |v: &Option<Spanned<String>>, what: &str, default: &str| -> i64 {
        match v {
            None => parse_duration_ms(default).unwrap_or(0),
            Some(v) => match parse_duration_ms(v.get_ref()) {
                Some(ms) => ms,
                None => {
                    bad(
                        v.span(),
                        format!(
                            "{what} '{}' must be a duration like \"0m\", \"2m\" or \"1h\"",
                            v.get_ref()
                        ),
                    );
                    0
                }
            },
        }
    };
    let for_ms = dur(&a.for_, "for", DEFAULT_FOR);
    let keep_firing_for_ms = dur(
        &a.keep_firing_for,
        "keep_firing_for",
        DEFAULT_KEEP_FIRING_FOR,
    );
    (errors.len() == before).then_some(AlertDef {
        long_minutes,
        short_minutes,
        factor,
        severity,
        for_ms,
        keep_firing_for_ms,
    })
}

/// The built-in SLOs (the default file; it always parses).
pub fn builtin() -> Vec<SloDef> {
    parse("built-in slos.toml", DEFAULT_SLOS_TOML).unwrap_or_default()
}

/// Reads `path`: the built-in SLOs when it does not exist, else its validated contents.
pub fn load(path: &std::path::Path) -> Result<Vec<SloDef>, Vec<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&path.display().to_string(), &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(builtin()),
        Err(e) => Err(vec![format!("cannot read {}: {e}", path.display())]),
    }
}
