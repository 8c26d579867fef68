//! SLO alert transitions: written to the audit log, pushed to clients, and handed to the
//! incidents (a firing page opens or joins one and turns the freeze on).

use crate::audit::{self, kind};
use crate::engine::Engine;
use crate::events::EngineEvent;
use microclaw_metrics::AlertEvent;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// The `slo.alert` payload: `{rule, slo, state, burnRate, window, since, …}` (`burn_rate` too,
/// for older readers).
pub fn payload(alert: &AlertEvent) -> Value {
    let mut payload = serde_json::to_value(alert).unwrap_or_default();
    payload["burnRate"] = json!(alert.burn_rate);
    payload["burnRateShort"] = json!(alert.burn_rate_short);
    payload
}

/// One transition: audit, `slo.alert`, then incidents and the freeze.
pub async fn handle(engine: &Engine, alert: &AlertEvent) {
    let payload = payload(alert);
    audit::record(
        engine,
        kind::SLO_ALERT,
        "metrics",
        Some(&alert.slo),
        payload.clone(),
    )
    .await;
    engine.emit(EngineEvent::SloAlert(payload));
    if let Err(e) = super::incidents::on_alert(engine, alert).await {
        tracing::warn!(rule = %alert.rule, "incident/freeze update for an alert failed: {e}");
    }
}

pub fn spawn_alert_fanout(engine: Arc<Engine>, stop: CancellationToken) {
    let mut rx = engine.metrics_engine().subscribe_alerts();
    tokio::spawn(async move {
        loop {
            let ev = tokio::select! {
                _ = stop.cancelled() => break,
                ev = rx.recv() => ev,
            };
            match ev {
                Ok(alert) => handle(&engine, &alert).await,
                Err(RecvError::Lagged(n)) => tracing::warn!("{n} SLO alert events were skipped"),
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// `GET /api/alerts?state=&since=&rule=&limit=` / `alerts.list`: every rule's current state,
/// the firing ones, and the stored transitions (newest first).
pub async fn list(
    engine: &Engine,
    state: Option<&str>,
    since: Option<i64>,
    rule: Option<&str>,
    limit: Option<i64>,
) -> microclaw_core::Result<Value> {
    const STATES: [&str; 4] = ["inactive", "pending", "firing", "resolved"];
    if let Some(s) = state {
        if !STATES.contains(&s) {
            return Err(microclaw_core::Error::invalid(format!(
                "state '{s}' is not known: expected one of {}",
                STATES.join(", ")
            )));
        }
    }
    let q = microclaw_store::alert_transitions::TransitionQuery {
        state: state.map(str::to_string),
        since,
        rule: rule.map(str::to_string),
        limit: limit.unwrap_or(200),
    };
    let transitions = engine
        .store()
        .read_async(move |s| s.alert_transitions_list(&q))
        .await?;
    let me = engine.metrics_engine();
    let mut rules = me.alert_statuses();
    if let Some(s) = state {
        rules.retain(|r| r.state == s);
    }
    Ok(json!({
        "ok": true,
        "rules": rules,
        "firing": me.firing_alerts(),
        "transitions": transitions,
        "sloFileErrors": super::slo_defs::file_errors(),
    }))
}
