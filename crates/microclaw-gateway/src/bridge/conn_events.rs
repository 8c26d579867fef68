//! What one connection does with engine events, chat events and ticks (§3), and which of
//! them a lagging connection may miss (decisions.md "Delivery under pressure").

use super::agent_events::{agent_delivery, agent_payload};
use super::chat_events::chat_payload;
use super::conn_access::REVOKED_REASON;
use super::frames::Proto;
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
        EngineEvent::SessionsChanged { key, reason, row } if readable => {
            out.event(
                "sessions.changed",
                sessions_changed_payload(&ctx.engine, &key, reason, row.as_deref()),
            );
        }
        EngineEvent::Agent(ev) if readable => {
            let max_payload = ctx.engine.config().server.max_payload_bytes;
            out.event_with(
                "agent",
                agent_payload(&ev, max_payload),
                agent_delivery(&ev),
            );
        }
        EngineEvent::SloAlert(payload) if readable => {
            out.event("slo.alert", payload);
        }
        EngineEvent::GatewayAlert(payload) if readable => {
            out.event("gateway.alert", payload);
        }
        EngineEvent::Incident(payload) if readable => {
            out.event("incident", payload);
        }
        EngineEvent::FreezeChanged(payload) if readable => {
            out.event("freeze", payload);
        }
        EngineEvent::BudgetWarning(payload) if readable => {
            out.event("budget.warning", payload);
        }
        EngineEvent::Cron(payload) if readable => {
            out.event_droppable("cron", payload);
        }
        EngineEvent::PresenceChanged if readable => {
            let list = ctx.engine.presence().pushed();
            out.event_raw_droppable("presence", &list.event_payload);
        }
        EngineEvent::KeyRevoked { key_id } if ctx.principal.api_key_id() == Some(key_id) => {
            out.close(CLOSE_POLICY, REVOKED_REASON);
            return Flow::Stop;
        }
        // Never droppable (decisions.md): a full queue closes the connection with 1013.
        EngineEvent::ApprovalRequested { record, .. } if approvals(ctx) => {
            out.event("exec.approval.requested", record);
        }
        EngineEvent::ApprovalResolved { payload, .. } if approvals(ctx) => {
            out.event("exec.approval.resolved", payload);
        }
        EngineEvent::DevicePairRequested(payload) if pairing(ctx) => {
            out.event("device.pair.requested", payload);
        }
        EngineEvent::DevicePairResolved(payload) if pairing(ctx) => {
            out.event("device.pair.resolved", payload);
        }
        EngineEvent::DevicePairChanged if pairing(ctx) => {
            out.event("device.pair.changed", json!({}));
        }
        EngineEvent::DeviceAccessEnded { device_id }
            if ctx.device_id.as_deref() == Some(device_id.as_str()) =>
        {
            out.close(CLOSE_POLICY, DEVICE_REMOVED_REASON);
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

/// The close reason when the connection's device was removed or revoked.
pub const DEVICE_REMOVED_REASON: &str = "device removed or revoked by the operator";

/// Approval events reach every connection holding `operator.approvals` (or admin).
fn approvals(ctx: &MethodCtx) -> bool {
    ctx.principal.scopes.allows(Scope::Approvals)
}

/// Pairing events reach only connections holding `operator.pairing` (or admin).
fn pairing(ctx: &MethodCtx) -> bool {
    ctx.principal.scopes.allows(Scope::Pairing)
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

/// `sessions.changed`: `{key, sessionKey, reason, ts}` plus, when the emitter had the row, the
/// row's fields flat at the top level (OpenClaw's subscribers read them there).
fn sessions_changed_payload(
    engine: &microclaw_engine::Engine,
    key: &str,
    reason: &str,
    row: Option<&microclaw_store::SessionRow>,
) -> serde_json::Value {
    let mut v = json!({"key": key, "sessionKey": key, "reason": reason, "ts": engine.now_ms()});
    if let Some(r) = row {
        v["sessionId"] = json!(r.session_id);
        v["label"] = json!(r.label);
        v["updatedAt"] = json!(r.updated_at);
        v["createdAt"] = json!(r.created_at);
        v["thinkingLevel"] = json!(r.thinking_level.as_str());
        v["verboseLevel"] = json!(r.verbose_level.as_str());
        v["reasoningLevel"] = json!(r.reasoning_level.as_str());
        v["messageCount"] = json!(r.message_count);
        v["parentKey"] = json!(r.parent_key);
        v["hasActiveRun"] = json!(engine.runs().has_active(&r.key));
    }
    v
}
