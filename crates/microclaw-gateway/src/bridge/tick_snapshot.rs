//! `tick` for Mission Control: a connection whose `client.displayName` is "Mission Control"
//! gets `{ts, snapshot:{sessions:[{key, kind, updatedAt, model, totalTokens, contextTokens,
//! messageCount, cost}]}}` (its live sessions panel reads them); every other client keeps
//! OpenClaw's closed `{ts}`.

use super::conn_events::{self, Flow};
use super::connect_params::ClientInfo;
use super::frames::Proto;
use super::methods::MethodCtx;
use super::outbound_queue::Outbound;
use microclaw_engine::compat::openclaw_sessions::tick_row;
use microclaw_engine::Engine;
use serde_json::{json, Value};
use std::sync::Arc;

/// The `client.displayName` Mission Control connects with.
pub const MISSION_CONTROL: &str = "Mission Control";

/// Sessions a tick carries at most (the most recently updated).
pub const TICK_SESSIONS: u32 = 100;

/// Whether this client's ticks carry the sessions snapshot.
pub fn wants_snapshot(client: &ClientInfo) -> bool {
    client
        .display_name
        .as_deref()
        .is_some_and(|n| n.trim().eq_ignore_ascii_case(MISSION_CONTROL))
}

/// The tick right after hello-ok (read before it is sent, so it still comes first).
pub async fn first_tick(engine: &Engine, out: &Outbound, snapshot: bool) {
    let payload = if snapshot {
        payload(engine).await
    } else {
        json!({"ts": engine.now_ms()})
    };
    out.event("tick", payload);
}

/// A periodic tick. The snapshot is read beside the connection's loop (which keeps draining
/// events meanwhile); its `health` follows the tick as for every protocol-4 client.
pub fn on_tick(ctx: &Arc<MethodCtx>, out: &Outbound, snapshot: bool) -> Flow {
    if !snapshot {
        return conn_events::on_tick(ctx, out);
    }
    let (ctx, out) = (ctx.clone(), out.clone());
    tokio::spawn(async move {
        let payload = payload(&ctx.engine).await;
        out.event_droppable("tick", payload);
        if ctx.proto == Proto::V4 {
            match microclaw_engine::ops::status::health(&ctx.engine) {
                Ok(health) => {
                    out.event_droppable("health", health);
                }
                Err(e) => tracing::debug!("health snapshot for the tick failed: {e}"),
            }
        }
    });
    Flow::Continue
}

/// `{ts, snapshot:{sessions}}`; a failed read sends the tick without sessions (logged).
async fn payload(engine: &Engine) -> Value {
    let ts = engine.now_ms();
    match sessions(engine).await {
        Ok(rows) => json!({"ts": ts, "snapshot": {"sessions": rows}}),
        Err(e) => {
            tracing::debug!("tick snapshot: cannot read sessions: {e}");
            json!({"ts": ts})
        }
    }
}

async fn sessions(engine: &Engine) -> microclaw_core::Result<Vec<Value>> {
    let rows = engine
        .store()
        .read_async(|s| s.sessions_recent(TICK_SESSIONS))
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            tick_row(
                engine,
                r,
                &engine.session_usage().get(&r.key, &r.session_id),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mission_control_gets_the_snapshot() {
        let named = |n: Option<&str>| ClientInfo {
            display_name: n.map(str::to_string),
            ..Default::default()
        };
        assert!(wants_snapshot(&named(Some("Mission Control"))));
        assert!(wants_snapshot(&named(Some(" mission control "))));
        assert!(!wants_snapshot(&named(Some("OpenClaw Control"))));
        assert!(!wants_snapshot(&named(None)));
    }
}
