//! The prober: every `fleet.probe_interval_ms` each gateway is connected to (protocol 3..4),
//! asked for `health`, and the outcome recorded (state + one history row, the newest
//! `fleet.history_rows` kept). A gateway not up for `fleet.down_alert_after` probes in a row
//! raises one alert (audit `gateway.down`, event `gateway.alert`); its first `up` after that
//! clears it (`gateway.up`). Runs on the engine's runtime; every probe is bounded by
//! `fleet.probe_timeout_ms`, and at most [`MAX_PARALLEL`] run at once.

use super::client::{ConnectError, RemoteConn, RemoteError};
use crate::audit;
use crate::engine::Engine;
use crate::events::EngineEvent;
use microclaw_store::gateways::{GatewayRow, ProbeResult};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const MAX_PARALLEL: usize = 8;
pub const UP: &str = "up";
pub const DOWN: &str = "down";
pub const AUTH_FAILED: &str = "auth_failed";

/// Starts the loop (from `Engine::start_background`); it stops with `stop`.
pub fn spawn(engine: Arc<Engine>, stop: CancellationToken) {
    let every = Duration::from_millis(engine.config().fleet.probe_interval_ms);
    tokio::spawn(async move {
        let setting = engine.config().fleet.token_store.clone();
        let chosen = tokio::task::spawn_blocking(move || {
            super::tokens::choose(&setting).map_err(|e| e.message)
        })
        .await;
        match chosen {
            Ok(Ok(store)) => tracing::info!(
                "fleet: new gateway tokens go to the {store} store (fleet.token_store = {})",
                engine.config().fleet.token_store
            ),
            Ok(Err(why)) => tracing::warn!("fleet: {why}"),
            Err(_) => {}
        }
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            let rows = match engine.store().read_async(|s| s.gateways_list()).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::debug!("fleet: cannot list gateways: {e}");
                    continue;
                }
            };
            for chunk in rows.chunks(MAX_PARALLEL) {
                let probes = chunk.iter().map(|g| probe_and_record(&engine, g));
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = futures_util::future::join_all(probes) => {}
                }
            }
        }
    });
}

/// Probes one gateway now and records the outcome; returns the row after it.
pub async fn probe_and_record(engine: &Engine, g: &GatewayRow) -> Option<GatewayRow> {
    let result = probe(engine, g).await;
    let (id, now, keep) = (g.id, engine.now_ms(), engine.config().fleet.history_rows);
    let r = result.clone();
    let after = match engine
        .store()
        .write_async(move |s| s.gateway_record_probe(id, &r, now, keep))
        .await
    {
        Ok(Some(row)) => row,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!("fleet: cannot record the probe of gateway {id}: {e}");
            return None;
        }
    };
    let n = i64::from(engine.config().fleet.down_alert_after);
    if after.down_streak == n {
        alert(engine, &after, "gateway.down", "firing").await;
    } else if after.status == UP && g.down_streak >= n {
        alert(engine, &after, "gateway.up", "resolved").await;
    }
    Some(after)
}

async fn alert(engine: &Engine, g: &GatewayRow, kind: &str, state: &str) {
    let payload = json!({
        "id": g.id, "name": g.name, "url": g.url, "state": state, "status": g.status,
        "downProbes": g.down_streak, "lastError": g.last_error, "at": engine.now_ms(),
    });
    if state == "firing" {
        tracing::warn!(
            "fleet: gateway {} ({}) is down: {} probes",
            g.id,
            g.name,
            g.down_streak
        );
    } else {
        tracing::info!("fleet: gateway {} ({}) is up again", g.id, g.name);
    }
    audit::record(
        engine,
        kind,
        "fleet",
        Some(&g.id.to_string()),
        payload.clone(),
    )
    .await;
    engine.emit(EngineEvent::GatewayAlert(payload));
}

/// One probe: connect + `health`. Never fails: a failure is a `down`/`auth_failed` result.
pub async fn probe(engine: &Engine, g: &GatewayRow) -> ProbeResult {
    let timeout = Duration::from_millis(engine.config().fleet.probe_timeout_ms);
    let failed = |status: &str, error: String| ProbeResult {
        status: status.into(),
        latency_ms: None,
        version: None,
        protocol: None,
        session_count: None,
        kind: None,
        error: Some(error),
    };
    let token = match super::read_token(engine, g).await {
        Ok(t) => t,
        Err(e) => return failed(DOWN, e.message),
    };
    let started = tokio::time::Instant::now();
    let mut conn = match RemoteConn::connect(&g.url, &token, timeout).await {
        Ok(c) => c,
        Err(ConnectError::Auth(why)) => return failed(AUTH_FAILED, why),
        Err(ConnectError::Down(why)) => return failed(DOWN, why),
    };
    let health = conn.request("health", json!({})).await;
    let latency = started.elapsed().as_millis() as i64;
    let hello = conn.hello.clone();
    conn.close().await;
    let health = match health {
        Ok(h) => h,
        Err(RemoteError::Refused { code, message }) => {
            return failed(DOWN, format!("health refused: {code}: {message}"))
        }
        Err(RemoteError::Transport(t)) => return failed(DOWN, format!("health: {t}")),
    };
    ProbeResult {
        status: UP.into(),
        latency_ms: Some(latency),
        version: hello["server"]["version"].as_str().map(str::to_string),
        protocol: hello["protocol"].as_i64(),
        session_count: session_count(&health)
            .or_else(|| session_count(&hello["snapshot"]["health"])),
        kind: Some(kind_of(&hello).into()),
        error: None,
    }
}

fn session_count(health: &Value) -> Option<i64> {
    health["sessions"]["count"]
        .as_i64()
        .or_else(|| health["sessionCount"].as_i64())
}

/// `microclaw` (MicroClaw's own `sessions.kill` listed), `openclaw` (an agent gateway:
/// `agent` and `chat.send`), else `console` (another console speaking the bridge).
fn kind_of(hello: &Value) -> &'static str {
    let methods = hello["features"]["methods"].as_array();
    let has = |name: &str| methods.is_some_and(|m| m.iter().any(|v| v == name));
    if has("sessions.kill") {
        "microclaw"
    } else if has("agent") && has("chat.send") {
        "openclaw"
    } else {
        "console"
    }
}
