//! Incidents (operations.md §4): opened by a firing page-severity alert (or joining the open
//! one for the same SLO) or by hand; owner, status, notes and a timeline; every change emits
//! `incident` (the incident without its timeline). The postmortem export is in
//! `incident_export`.

use crate::audit;
use crate::engine::Engine;
use crate::events::EngineEvent;
use microclaw_core::{Error, Result};
use microclaw_metrics::AlertEvent;
use microclaw_store::incidents::{IncidentChange, IncidentRow};
use serde_json::{json, Value};

pub const SEVERITIES: [&str; 4] = ["sev1", "sev2", "sev3", "sev4"];
pub const STATUSES: [&str; 3] = ["open", "mitigated", "resolved"];
const TEXT_MAX: usize = 4000;

fn emit(engine: &Engine, row: &IncidentRow) -> Value {
    let v = serde_json::to_value(row).unwrap_or_default();
    engine.emit(EngineEvent::Incident(v.clone()));
    v
}

fn text_arg(what: &str, v: Option<&str>, max: usize) -> Result<String> {
    let t = v.map(str::trim).unwrap_or("");
    if t.is_empty() {
        return Err(Error::invalid(format!(
            "{what} is required: expected a non-empty string"
        )));
    }
    if t.chars().count() > max {
        return Err(Error::invalid(format!(
            "{what} is too long: at most {max} characters"
        )));
    }
    Ok(t.to_string())
}

/// `GET /api/incidents?status=`.
pub async fn list(engine: &Engine, status: Option<&str>, limit: Option<i64>) -> Result<Value> {
    if let Some(s) = status {
        if !STATUSES.contains(&s) {
            return Err(Error::invalid(format!(
                "status '{s}' is not known: expected one of {}",
                STATUSES.join(", ")
            )));
        }
    }
    let status = status.map(str::to_string);
    let rows = engine
        .store()
        .read_async(move |s| s.incidents_list(status.as_deref(), limit.unwrap_or(100)))
        .await?;
    Ok(json!({"ok": true, "incidents": rows}))
}

/// `GET /api/incidents/{id}`: the incident with its timeline.
pub async fn get(engine: &Engine, id: i64) -> Result<Value> {
    let (row, timeline) = engine
        .store()
        .read_async(move |s| Ok((s.incident_get(id)?, s.incident_timeline(id)?)))
        .await?;
    let mut v = serde_json::to_value(&row).unwrap_or_default();
    v["timeline"] = serde_json::to_value(&timeline).unwrap_or_default();
    Ok(json!({"ok": true, "incident": v}))
}

/// `POST /api/incidents {title, severity}` (admin): opened by hand.
pub async fn create(engine: &Engine, actor: &str, body: &Value) -> Result<Value> {
    let title = text_arg("title", body.get("title").and_then(Value::as_str), 200)?;
    let severity = body
        .get("severity")
        .and_then(Value::as_str)
        .unwrap_or("sev3");
    if !SEVERITIES.contains(&severity) {
        return Err(Error::invalid(format!(
            "severity '{severity}' is not known: expected one of {}",
            SEVERITIES.join(", ")
        )));
    }
    let (sev, a, now) = (severity.to_string(), actor.to_string(), engine.now_ms());
    let t2 = title.clone();
    let row = engine
        .store()
        .write_async(move |s| {
            s.incident_open(&t2, &sev, None, None, ("status", "opened by hand"), &a, now)
        })
        .await?;
    audit::record(
        engine,
        "incident.open",
        actor,
        Some(&row.id.to_string()),
        json!({"title": title}),
    )
    .await;
    let v = emit(engine, &row);
    Ok(json!({"ok": true, "incident": v}))
}

async fn apply(
    engine: &Engine,
    id: i64,
    change: IncidentChange,
    actor: &str,
) -> Result<IncidentRow> {
    let (a, now) = (actor.to_string(), engine.now_ms());
    let row = engine
        .store()
        .write_async(move |s| s.incident_change(id, &change, &a, now))
        .await?;
    emit(engine, &row);
    Ok(row)
}

/// `POST /api/incidents/{id}/owner {owner}` (write).
pub async fn set_owner(
    engine: &Engine,
    actor: &str,
    id: i64,
    owner: Option<&str>,
) -> Result<Value> {
    let owner = text_arg("owner", owner, 120)?;
    let row = apply(engine, id, IncidentChange::Owner(owner), actor).await?;
    Ok(json!({"ok": true, "incident": row}))
}

/// `POST /api/incidents/{id}/notes {text}` (write).
pub async fn add_note(engine: &Engine, actor: &str, id: i64, text: Option<&str>) -> Result<Value> {
    let text = text_arg("text", text, TEXT_MAX)?;
    let row = apply(
        engine,
        id,
        IncidentChange::Entry("note".into(), text),
        actor,
    )
    .await?;
    Ok(json!({"ok": true, "incident": row}))
}

/// `POST /api/incidents/{id}/status {status}` (admin).
pub async fn set_status(
    engine: &Engine,
    actor: &str,
    id: i64,
    status: Option<&str>,
) -> Result<Value> {
    let status = status.map(str::trim).unwrap_or("");
    if !STATUSES.contains(&status) {
        return Err(Error::invalid(format!(
            "status '{status}' is not known: expected one of {}",
            STATUSES.join(", ")
        )));
    }
    let row = apply(engine, id, IncidentChange::Status(status.into()), actor).await?;
    audit::record(
        engine,
        "incident.status",
        actor,
        Some(&id.to_string()),
        json!({"status": status}),
    )
    .await;
    Ok(json!({"ok": true, "incident": row}))
}

/// Adds a timeline entry to incident `id`; failures are logged (a timeline note never fails
/// the change it describes).
pub async fn timeline(engine: &Engine, id: i64, kind: &str, text: &str, actor: &str) {
    let change = IncidentChange::Entry(kind.into(), text.chars().take(TEXT_MAX).collect());
    if let Err(e) = apply(engine, id, change, actor).await {
        tracing::warn!(incident = id, "could not add to the incident timeline: {e}");
    }
}

/// Adds a timeline entry to the newest open incident, if there is one.
pub async fn note_open(engine: &Engine, kind: &str, text: &str, actor: &str) {
    if let Ok(Some(open)) = engine
        .store()
        .read_async(|s| s.incident_open_for(None))
        .await
    {
        timeline(engine, open.id, kind, text, actor).await;
    }
}

fn alert_text(e: &AlertEvent) -> String {
    format!(
        "alert {} {} (burn rate {:.1}× over {}, threshold {}×, {} samples)",
        e.rule, e.state, e.burn_rate, e.window, e.threshold, e.samples
    )
}

/// An alert transition: a firing page joins the open incident of its SLO or opens one (and
/// turns the freeze on); firing tickets and resolutions are noted in the open incident; when
/// no page fires any more the automatic freeze lifts.
pub async fn on_alert(engine: &Engine, e: &AlertEvent) -> Result<()> {
    if e.state != "firing" && e.state != "resolved" {
        return Ok(());
    }
    let slo = e.slo.clone();
    let open = engine
        .store()
        .read_async(move |s| s.incident_open_for(Some(&slo)))
        .await?;
    let text = alert_text(e);
    let incident_id = match (open, e.state.as_str(), e.severity.as_str()) {
        (Some(inc), "firing", _) => {
            apply(
                engine,
                inc.id,
                IncidentChange::Alert(e.rule.clone(), text),
                "alerts",
            )
            .await?;
            Some(inc.id)
        }
        (Some(inc), _, _) => {
            timeline(engine, inc.id, "alert", &text, "alerts").await;
            Some(inc.id)
        }
        (None, "firing", "page") if engine.config().incidents.auto_open => {
            let title = format!("SLO burn: {}", e.slo);
            let (slo, rule, now) = (e.slo.clone(), e.rule.clone(), engine.now_ms());
            let row = engine
                .store()
                .write_async(move |s| {
                    s.incident_open(
                        &title,
                        "sev2",
                        Some(&slo),
                        Some(&rule),
                        ("alert", &text),
                        "alerts",
                        now,
                    )
                })
                .await?;
            audit::record(
                engine,
                "incident.open",
                "alerts",
                Some(&row.id.to_string()),
                json!({"rule": e.rule}),
            )
            .await;
            emit(engine, &row);
            Some(row.id)
        }
        _ => None,
    };
    if e.severity == "page" {
        let page_firing = engine
            .metrics_engine()
            .firing_alerts()
            .iter()
            .any(|a| a.severity == "page");
        if e.state == "firing" {
            if engine.config().freeze.auto_on_burn {
                super::freeze::auto_on(engine, &e.rule, incident_id).await?;
            }
        } else if !page_firing {
            super::freeze::auto_off(engine).await?;
        }
    }
    Ok(())
}
