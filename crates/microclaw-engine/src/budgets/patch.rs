//! The JSON form of the budgets (`budgets.get`) and run-time edits (`budgets.set`, `PUT
//! /api/budgets`): flat cap keys, `null` clearing one, `agents: {<id>: {…same keys…}}` (an
//! agent set to `null` loses all its caps), `timezone`, `warn_ratio`.

use microclaw_core::config::{BudgetCaps, BudgetsConfig, BUDGET_CAP_KEYS};
use microclaw_core::{Error, Result};
use serde_json::{json, Map, Value};

fn caps_json(c: &BudgetCaps) -> Map<String, Value> {
    let mut m = Map::new();
    for k in BUDGET_CAP_KEYS {
        let v = match *k {
            "daily_usd" => json!(c.daily_usd),
            _ => json!(c.get(k).map(|v| v as u64)),
        };
        m.insert((*k).to_string(), v);
    }
    m
}

/// `{per_run_tokens, …, timezone, warn_ratio, agents:{id:{…}}}` (unset caps are `null`).
pub fn flat_json(cfg: &BudgetsConfig) -> Value {
    let mut m = caps_json(&cfg.caps());
    m.insert("timezone".into(), json!(cfg.timezone));
    m.insert("warn_ratio".into(), json!(cfg.warn_ratio));
    let agents: Map<String, Value> = cfg
        .agents
        .iter()
        .map(|(k, v)| (k.clone(), Value::Object(caps_json(v))))
        .collect();
    m.insert("agents".into(), Value::Object(agents));
    Value::Object(m)
}

fn set_cap(caps: &mut BudgetCaps, key: &str, v: &Value, at: &str) -> Result<()> {
    let whole = || -> Result<Option<u64>> {
        match v {
            Value::Null => Ok(None),
            _ => v.as_u64().map(Some).ok_or_else(|| {
                Error::invalid(format!(
                    "{at}{key} = {v} is not allowed: expected a whole number >= 0 or null (no cap)"
                ))
            }),
        }
    };
    match key {
        "per_run_tokens" => caps.per_run_tokens = whole()?,
        "per_session_tokens" => caps.per_session_tokens = whole()?,
        "daily_tokens" => caps.daily_tokens = whole()?,
        "max_tool_calls_per_run" => caps.max_tool_calls_per_run = whole()?,
        "max_tokens_per_minute" => caps.max_tokens_per_minute = whole()?,
        "daily_usd" => {
            caps.daily_usd = match v {
                Value::Null => None,
                _ => Some(v.as_f64().filter(|f| f.is_finite() && *f >= 0.0).ok_or_else(|| {
                    Error::invalid(format!(
                        "{at}daily_usd = {v} is not allowed: expected a number >= 0 or null (no cap)"
                    ))
                })?),
            }
        }
        _ => return Ok(()),
    }
    Ok(())
}

/// Applies `patch` to `cfg`; returns the edited config and the keys it ignored (unknown).
pub fn apply_patch(cfg: &BudgetsConfig, patch: &Value) -> Result<(BudgetsConfig, Vec<String>)> {
    let obj = patch.as_object().ok_or_else(|| {
        Error::invalid(
            "budgets must be a JSON object of caps, e.g. {\"daily_tokens\": 100000, \"per_run_tokens\": null}",
        )
    })?;
    let mut out = cfg.clone();
    let mut caps = out.caps();
    let mut ignored = Vec::new();
    for (k, v) in obj {
        match k.as_str() {
            k if BUDGET_CAP_KEYS.contains(&k) => set_cap(&mut caps, k, v, "budgets.")?,
            "timezone" => {
                let tz = v.as_str().ok_or_else(|| {
                    Error::invalid(
                        "budgets.timezone must be a string: an IANA time zone such as UTC",
                    )
                })?;
                super::window::parse_zone(tz)?;
                out.timezone = tz.trim().to_string();
            }
            "warn_ratio" => {
                out.warn_ratio = v.as_f64().ok_or_else(|| {
                    Error::invalid("budgets.warn_ratio must be a number in (0, 1]")
                })?
            }
            "agents" => {
                let agents = v.as_object().ok_or_else(|| {
                    Error::invalid(
                        "budgets.agents must be an object: {\"<agent id>\": {\"daily_tokens\": …}}",
                    )
                })?;
                for (id, a) in agents {
                    if a.is_null() {
                        out.agents.remove(id);
                        continue;
                    }
                    let fields = a.as_object().ok_or_else(|| {
                        Error::invalid(format!(
                            "budgets.agents.{id} must be an object of caps or null"
                        ))
                    })?;
                    let mut c = out.agents.get(id).cloned().unwrap_or_default();
                    for (ck, cv) in fields {
                        if BUDGET_CAP_KEYS.contains(&ck.as_str()) {
                            set_cap(&mut c, ck, cv, &format!("budgets.agents.{id}."))?;
                        } else {
                            ignored.push(format!("agents.{id}.{ck}"));
                        }
                    }
                    if c.is_empty() {
                        out.agents.remove(id);
                    } else {
                        out.agents.insert(id.clone(), c);
                    }
                }
            }
            other => ignored.push(other.to_string()),
        }
    }
    out.set_caps(caps);
    out.validate()?;
    Ok((out, ignored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_sets_clears_and_names_bad_values() {
        let base = BudgetsConfig {
            per_run_tokens: Some(5),
            ..Default::default()
        };
        let (cfg, ignored) = apply_patch(
            &base,
            &json!({"per_run_tokens": null, "daily_usd": 2.5, "agents": {"a": {"daily_tokens": 10}}, "x": 1}),
        )
        .unwrap();
        assert_eq!(cfg.per_run_tokens, None);
        assert_eq!(cfg.daily_usd, Some(2.5));
        assert_eq!(cfg.agents["a"].daily_tokens, Some(10));
        assert_eq!(ignored, vec!["x".to_string()]);
        let e = apply_patch(&base, &json!({"daily_tokens": -1})).unwrap_err();
        assert!(
            e.message.contains("budgets.daily_tokens") && e.message.contains("whole number"),
            "{}",
            e.message
        );
        let e = apply_patch(&base, &json!({"timezone": "Nowhere/City"})).unwrap_err();
        assert!(e.message.contains("IANA"), "{}", e.message);
        assert_eq!(flat_json(&cfg)["agents"]["a"]["daily_tokens"], json!(10));
    }
}
