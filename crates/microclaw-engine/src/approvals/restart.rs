//! At server start: approvals left pending by the previous process cannot be answered any
//! more (their runs are gone). They are settled as denied with reason `gateway-restart`
//! (decisions.md) and stay in the history.

use super::shapes;
use crate::engine::Engine;
use crate::events::EngineEvent;
use serde_json::json;

/// Settles the previous process's pending approvals (blocking: runs once at start).
pub fn end_pending_at_start(engine: &Engine) {
    let rows = match engine.store().approvals_end_pending(
        "denied",
        "deny",
        "gateway-restart",
        engine.now_ms(),
    ) {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!("could not settle approvals left pending by the previous stop: {e}");
            return;
        }
    };
    if rows.is_empty() {
        return;
    }
    tracing::info!(
        "{} approval(s) pending at the previous stop were denied (gateway-restart)",
        rows.len()
    );
    for row in &rows {
        engine.emit(EngineEvent::ApprovalResolved {
            payload: shapes::resolved(row),
            pending: 0,
        });
        crate::audit::record_blocking(
            engine,
            super::gate::AUDIT_RESOLVED,
            "system",
            Some(&row.id),
            json!({"decision": "deny", "status": row.status, "reason": "gateway-restart",
                   "tool": row.tool, "command": row.command, "sessionKey": row.session_key}),
        );
    }
}
