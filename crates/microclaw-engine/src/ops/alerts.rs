//! SLO alerts that start or clear: written to the audit log and pushed to clients.

use crate::audit::{self, kind};
use crate::engine::Engine;
use crate::events::EngineEvent;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

pub fn spawn_alert_fanout(engine: Arc<Engine>, stop: CancellationToken) {
    let mut rx = engine.metrics_engine().subscribe_alerts();
    tokio::spawn(async move {
        loop {
            let ev = tokio::select! {
                _ = stop.cancelled() => break,
                ev = rx.recv() => ev,
            };
            match ev {
                Ok(alert) => {
                    let payload = serde_json::to_value(&alert).unwrap_or_default();
                    let slo = payload
                        .get("slo")
                        .and_then(|s| s.as_str())
                        .unwrap_or("")
                        .to_string();
                    audit::record(
                        &engine,
                        kind::SLO_ALERT,
                        "metrics",
                        Some(&slo),
                        payload.clone(),
                    )
                    .await;
                    engine.emit(EngineEvent::SloAlert(payload));
                }
                Err(RecvError::Lagged(n)) => tracing::warn!("{n} SLO alert events were skipped"),
                Err(RecvError::Closed) => break,
            }
        }
    });
}
