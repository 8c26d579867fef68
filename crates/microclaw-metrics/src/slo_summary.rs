//! The summary's `slo` object from the SLO definitions and the alert tracker, so every readout
//! agrees: each SLO's `state` is `no_data` without samples, `burning` while one of its rules
//! fires, else `ok`; `alert_state` is its worst rule state; window burn rates use the SLO's own
//! objective. Built-in SLOs keep their historic fields; file SLOs appear under their name.

use serde_json::{json, Map, Value};

use crate::alert_rules::{burn_rate, sli_counts, sli_value};
use crate::alert_state::AlertState;
use crate::alerts::AlertTracker;
use crate::slo::{SloReport, REPORTED};
use crate::slo_file::SloDef;

fn windows_json(report: &SloReport, def: &SloDef) -> Value {
    let mut out = Map::new();
    for (name, w) in &report.reported {
        let (_, total) = sli_counts(def, w);
        out.insert(
            name.to_string(),
            json!({"value": sli_value(def, w), "sample_size": total, "burn_rate": burn_rate(def, w)}),
        );
    }
    Value::Object(out)
}

/// The `slo` object: `report.slo_json()` for the built-in names, extended, plus every other
/// SLO of `tracker`'s definitions.
pub fn slo_json(report: &SloReport, tracker: &AlertTracker) -> Value {
    let mut slo = report.slo_json();
    let value_window = report.value_window_minutes;
    for def in tracker.defs() {
        let w = if def.sli == "scheduler_recoverability" {
            report.window("7d").cloned().unwrap_or_default()
        } else {
            report.minutes(value_window)
        };
        let (_, samples) = sli_counts(def, &w);
        let alert_state = tracker.slo_state(&def.name);
        let state = if samples == 0 && alert_state != AlertState::Firing {
            "no_data"
        } else if alert_state == AlertState::Firing {
            "burning"
        } else {
            "ok"
        };
        let value = sli_value(def, &w);
        let below = value.map(|v| v < def.objective);
        let entry = slo
            .as_object_mut()
            .map(|o| o.entry(def.name.clone()).or_insert_with(|| json!({})));
        let Some(entry) = entry else { continue };
        if entry.get("value").is_none() {
            entry["value"] = json!(value);
            entry["sample_size"] = json!(samples);
            entry["window_minutes"] = json!(value_window);
        }
        entry["state"] = json!(state);
        entry["alert_state"] = json!(alert_state.as_str());
        entry["objective"] = json!(def.objective);
        entry["sli"] = json!(def.sli);
        entry["sli_value"] = json!(value);
        entry["below_objective"] = json!(below);
        entry["window_days"] = json!(def.window_days);
        if let Some(t) = def.threshold_ms {
            entry["threshold_ms"] = json!(t);
        }
        let windows = windows_json(report, def);
        match entry.get_mut("windows").and_then(Value::as_object_mut) {
            Some(existing) => {
                for (name, _) in REPORTED.iter() {
                    if let (Some(e), Some(b)) = (existing.get_mut(*name), windows.get(*name)) {
                        e["burn_rate"] = b["burn_rate"].clone();
                        e["sli_value"] = b["value"].clone();
                        e["sli_sample_size"] = b["sample_size"].clone();
                    }
                }
            }
            None => entry["windows"] = windows,
        }
    }
    slo
}
