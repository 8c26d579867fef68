//! Schedule kinds (`openclaw-methods.md` §4.2): `cron` (5/6 fields, croner syntax, IANA zone
//! via chrono-tz), `every` (`everyMs`, optional `anchorMs`) and `at` (ISO-8601, `atMs` too).

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds};
use croner::Cron;
use microclaw_core::{Error, Result};
use serde_json::{json, Value};

/// How far ahead an `at` may lie (10 years) and how far in the past it may be on add (1 min).
const AT_MAX_AHEAD_MS: i64 = 10 * 365 * 24 * 3_600_000;
pub const AT_PAST_GRACE_MS: i64 = 60_000;

#[derive(Debug, Clone)]
pub enum Schedule {
    Cron {
        expr: String,
        tz: Tz,
        cron: Box<Cron>,
    },
    Every {
        every_ms: i64,
        anchor_ms: i64,
    },
    At {
        at_ms: i64,
    },
}

fn bad(method: &str, why: impl std::fmt::Display) -> Error {
    Error::invalid(format!("invalid {method} params: {why}"))
}

/// Parses a 5- or 6-field cron expression (or an `@alias`).
pub fn parse_cron(expr: &str) -> std::result::Result<Cron, String> {
    let fields = expr.split_whitespace().count();
    if !expr.trim_start().starts_with('@') && !(5..=6).contains(&fields) {
        return Err(format!(
            "schedule.expr '{expr}' has {fields} fields: expected 5 (minute hour day month weekday) or 6 (with seconds first)"
        ));
    }
    CronParser::builder()
        .seconds(Seconds::Optional)
        .build()
        .parse(expr.trim())
        .map_err(|e| format!("schedule.expr '{expr}' is not a valid cron expression: {e}"))
}

pub fn parse_tz(tz: &str) -> std::result::Result<Tz, String> {
    tz.trim().parse::<Tz>().map_err(|_| {
        format!("schedule.tz '{tz}' is not an IANA time zone: expected e.g. Europe/Berlin or UTC")
    })
}

/// Parses an ISO-8601 instant; offset-less times are UTC.
fn parse_at(s: &str) -> std::result::Result<i64, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(n.and_utc().timestamp_millis());
        }
    }
    Err(format!(
        "schedule.at '{s}' is not an ISO-8601 time: expected e.g. 2026-12-24T18:00:00Z"
    ))
}

fn int(v: &Value, key: &str) -> std::result::Result<Option<i64>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("schedule.{key} must be an integer")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("schedule.{key} '{s}' must be an integer")),
        Some(_) => Err(format!("schedule.{key} must be an integer")),
    }
}

impl Schedule {
    /// Parses a schedule object; `now` checks that an `at` is not past (add/update only).
    pub fn parse(method: &str, v: &Value, now: Option<i64>) -> Result<Schedule> {
        let Some(obj) = v.as_object() else {
            return Err(bad(method, "schedule must be an object {kind, …}"));
        };
        let kind = obj
            .get("kind")
            .and_then(Value::as_str)
            .map(|k| k.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match kind.as_str() {
            "cron" => {
                let expr = obj.get("expr").and_then(Value::as_str).unwrap_or("").trim();
                if expr.is_empty() {
                    return Err(bad(method, "schedule.expr is required for kind cron"));
                }
                let cron = parse_cron(expr).map_err(|e| bad(method, e))?;
                let tz = match obj.get("tz").and_then(Value::as_str).map(str::trim) {
                    Some(t) if !t.is_empty() => parse_tz(t).map_err(|e| bad(method, e))?,
                    _ => Tz::UTC,
                };
                Ok(Schedule::Cron {
                    expr: expr.to_string(),
                    tz,
                    cron: Box::new(cron),
                })
            }
            "every" => {
                let every_ms = int(v, "everyMs").map_err(|e| bad(method, e))?;
                let every_ms = every_ms
                    .filter(|n| *n >= 1000)
                    .ok_or_else(|| bad(method, "schedule.everyMs must be an integer ≥ 1000"))?;
                let anchor_ms = int(v, "anchorMs").map_err(|e| bad(method, e))?;
                Ok(Schedule::Every {
                    every_ms,
                    anchor_ms: anchor_ms.unwrap_or(now.unwrap_or(0)).max(0),
                })
            }
            "at" => {
                let at_ms = match (obj.get("at").and_then(Value::as_str), int(v, "atMs")) {
                    (Some(s), _) if !s.trim().is_empty() => {
                        parse_at(s).map_err(|e| bad(method, e))?
                    }
                    (_, Ok(Some(ms))) => ms,
                    (_, Err(e)) => return Err(bad(method, e)),
                    _ => {
                        return Err(bad(
                            method,
                            "schedule.at (ISO-8601) is required for kind at",
                        ))
                    }
                };
                if let Some(now) = now {
                    if at_ms < now - AT_PAST_GRACE_MS {
                        return Err(Error::invalid(format!(
                            "schedule.at is in the past ({}): expected a time from now on",
                            iso(at_ms)
                        )));
                    }
                    if at_ms > now + AT_MAX_AHEAD_MS {
                        return Err(Error::invalid(
                            "schedule.at is more than 10 years ahead: expected a nearer time",
                        ));
                    }
                }
                Ok(Schedule::At { at_ms })
            }
            "" => Err(bad(
                method,
                "schedule.kind is required: expected cron, every or at",
            )),
            other => Err(bad(
                method,
                format!("schedule.kind '{other}' is not supported: expected cron, every or at"),
            )),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Schedule::Cron { .. } => "cron",
            Schedule::Every { .. } => "every",
            Schedule::At { .. } => "at",
        }
    }

    /// The stored (normalized) form.
    pub fn to_json(&self) -> Value {
        match self {
            Schedule::Cron { expr, tz, .. } => {
                json!({"kind": "cron", "expr": expr, "tz": tz.name()})
            }
            Schedule::Every {
                every_ms,
                anchor_ms,
            } => json!({"kind": "every", "everyMs": every_ms, "anchorMs": anchor_ms}),
            Schedule::At { at_ms } => json!({"kind": "at", "at": iso(*at_ms), "atMs": at_ms}),
        }
    }

    /// The first fire time strictly after `after_ms`; None when there is none.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        match self {
            Schedule::Cron { tz, cron, .. } => {
                // Whole seconds: croner keeps the start's sub-second part in what it returns.
                let start = tz
                    .timestamp_millis_opt(after_ms.div_euclid(1000) * 1000)
                    .single()?;
                cron.find_next_occurrence(&start, false)
                    .ok()
                    .map(|t| t.timestamp_millis())
            }
            Schedule::Every {
                every_ms,
                anchor_ms,
            } => {
                if after_ms < *anchor_ms {
                    return Some(*anchor_ms);
                }
                let n = (after_ms - anchor_ms) / every_ms + 1;
                Some(anchor_ms + n * every_ms)
            }
            Schedule::At { at_ms } => (*at_ms > after_ms).then_some(*at_ms),
        }
    }

    /// The next `count` fire times after `after_ms`.
    pub fn preview(&self, after_ms: i64, count: usize) -> Vec<i64> {
        let mut out = Vec::with_capacity(count);
        let mut t = after_ms;
        while out.len() < count {
            match self.next_after(t) {
                Some(n) => {
                    out.push(n);
                    t = n;
                }
                None => break,
            }
        }
        out
    }
}

/// RFC 3339 in UTC with milliseconds.
pub fn iso(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}
