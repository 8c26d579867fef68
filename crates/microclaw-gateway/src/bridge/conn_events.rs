//! What one connection does with engine events, chat events and ticks (§3).

use super::chat_events::chat_payload;
use super::frames::Proto;
use super::hello::presence_json;
use super::methods::MethodCtx;
use super::outbound_queue::{Outbound, CLOSE_POLICY};
use microclaw_agent::ChatEvent;
use microclaw_core::Scope;
use microclaw_engine::{EngineEvent, PrincipalKind};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

pub enum Flow {
    Continue,
    Stop,
}

pub fn on_engine_event(ctx: &MethodCtx, out: &Outbound, ev: EngineEvent) -> Flow {
    let readable = ctx.principal.scopes.allows(Scope::Read);
    match ev {
        EngineEvent::SessionsChanged { key, reason } if readable => {
            out.event("sessions.changed", json!({"key": key, "reason": reason}));
        }
        EngineEvent::SloAlert(payload) if readable => {
            out.event("slo.alert", payload);
        }
        EngineEvent::PresenceChanged if readable => {
            out.event("presence", json!({"presence": presence_json(&ctx.engine)}));
        }
        EngineEvent::KeyRevoked { key_id } if ctx.principal.api_key_id() == Some(key_id) => {
            out.close(CLOSE_POLICY, "api key revoked");
            return Flow::Stop;
        }
        EngineEvent::LoginSessionRevoked { id_hash } => {
            if matches!(&ctx.principal.kind, PrincipalKind::LoginSession { id_hash: mine } if *mine == id_hash)
            {
                out.close(CLOSE_POLICY, "login session revoked");
                return Flow::Stop;
            }
        }
        _ => {}
    }
    Flow::Continue
}

pub fn on_chat_event(ctx: &MethodCtx, out: &Outbound, ev: &ChatEvent) -> Flow {
    if ctx.principal.scopes.allows(Scope::Read) {
        out.event("chat", chat_payload(ctx.proto, ev));
    }
    Flow::Continue
}

pub fn on_tick(ctx: &MethodCtx, out: &Outbound) -> Flow {
    out.event("tick", json!({"ts": ctx.engine.now_ms()}));
    if ctx.proto == Proto::V4 {
        match microclaw_engine::ops::status::health(&ctx.engine) {
            Ok(health) => {
                out.event("health", health);
            }
            Err(e) => tracing::debug!("health snapshot for the tick failed: {e}"),
        }
    }
    Flow::Continue
}

pub fn on_lag(stream: &str, e: RecvError) -> Flow {
    if let RecvError::Lagged(n) = e {
        tracing::warn!(
            "bridge connection fell behind the {stream} event stream: {n} events skipped"
        );
    }
    Flow::Continue
}
