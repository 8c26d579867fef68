//! The hello-ok payload (§2.8). Protocol 4's schema is closed: only the listed keys are sent.

use super::frames::Proto;
use super::handshake::Session;
use super::methods;
use microclaw_engine::Engine;
use serde_json::{json, Value};

/// Every event this bridge may send.
pub const EVENTS: &[&str] = &[
    "connect.challenge",
    "chat",
    "tick",
    "presence",
    "health",
    "sessions.changed",
    "shutdown",
    "slo.alert",
    "gateway.alert",
    "device.pair.requested",
    "device.pair.resolved",
    "device.pair.changed",
    "exec.approval.requested",
    "exec.approval.resolved",
    "agent",
    "cron",
    "incident",
    "freeze",
    "budget.warning",
];

/// The presence list (newest first, capped; built once per change by the engine).
pub fn presence_json(engine: &Engine) -> Value {
    (*engine.presence().snapshot()).clone()
}

pub fn hello_ok(engine: &Engine, session: &Session, conn_id: &str, health: Value) -> Value {
    let cfg = &engine.config().server;
    let uptime = engine.uptime_ms();
    let health_version = (uptime as u64) / cfg.tick_interval_ms.max(1) + 1;
    let mut hello = json!({
        "type": "hello-ok",
        "protocol": session.proto.number(),
        "server": {"version": microclaw_core::VERSION, "connId": conn_id},
        "features": {"methods": methods::advertised_names(), "events": EVENTS},
        "snapshot": {
            "presence": presence_json(engine),
            "health": health,
            "stateVersion": {"presence": engine.presence().version(), "health": health_version},
            "uptimeMs": uptime,
            "authMode": "token",
        },
        "policy": {
            "maxPayload": cfg.max_payload_bytes,
            "maxBufferedBytes": cfg.max_buffered_bytes,
            "tickIntervalMs": cfg.tick_interval_ms,
        },
    });
    if session.proto == Proto::V4 {
        hello["auth"] = json!({
            "role": session.role,
            "scopes": session.principal.scopes.to_strings(),
            "method": session.auth_method,
        });
    }
    hello
}
