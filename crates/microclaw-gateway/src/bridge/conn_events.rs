//! What one connection does with engine events, chat events and ticks (§3), and which of
//! them a lagging connection may miss (decisions.md "Delivery under pressure").

use super::chat_events::chat_payload;
use super::conn_access::REVOKED_REASON;
use super::frames::Proto;
use super::hello::presence_json;
use super::methods::MethodCtx;
use super::outbound_queue::{Delivery, Outbound, CLOSE_POLICY};
use microclaw_agent::{ChatEvent, ChatState};
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
            out.event_droppable("presence", json!({"presence": presence_json(&ctx.engine)}));
        }
        EngineEvent::KeyRevoked { key_id } if ctx.principal.api_key_id() == Some(key_id) => {
            out.close(CLOSE_POLICY, REVOKED_REASON);
            return Flow::Stop;
        }
        EngineEvent::LoginSessionRevoked { id_hash } => {
            if matches!(&ctx.principal.kind, PrincipalKind::LoginSession { id_hash: mine } if *mine == id_hash)
            {
                out.close(CLOSE_POLICY, REVOKED_REASON);
                return Flow::Stop;
            }
        }
        _ => {}
    }
    Flow::Continue
}

pub fn on_chat_event(ctx: &MethodCtx, out: &Outbound, ev: &ChatEvent) -> Flow {
    if ctx.principal.scopes.allows(Scope::Read) {
        let max_payload = ctx.engine.config().server.max_payload_bytes;
        out.event_with(
            "chat",
            chat_payload(ctx.proto, ev, max_payload),
            chat_delivery(ev),
        );
    }
    Flow::Continue
}

pub fn on_tick(ctx: &MethodCtx, out: &Outbound) -> Flow {
    out.event_droppable("tick", json!({"ts": ctx.engine.now_ms()}));
    if ctx.proto == Proto::V4 {
        match microclaw_engine::ops::status::health(&ctx.engine) {
            Ok(health) => {
                out.event_droppable("health", health);
            }
            Err(e) => tracing::debug!("health snapshot for the tick failed: {e}"),
        }
    }
    Flow::Continue
}

/// Deltas may be missed; a run's terminal event never.
pub fn chat_delivery(ev: &ChatEvent) -> Delivery {
    match ev.state {
        ChatState::Delta => Delivery::Droppable,
        ChatState::Final | ChatState::Error | ChatState::Aborted => Delivery::Essential,
    }
}

/// A receiver that lagged may have lost an event that must not be missed (a run's end, a
/// revocation): the connection closes with 1013 and the client reconnects and reads state.
pub fn on_lag(out: &Outbound, stream: &str, e: RecvError) -> Flow {
    match e {
        RecvError::Lagged(n) => {
            out.close_lagging(&format!(
                "the connection fell behind the {stream} event stream: {n} events lost"
            ));
            Flow::Stop
        }
        RecvError::Closed => Flow::Continue,
    }
}
