//! The approval record as clients see it (field names of openclaw-methods.md §3).

use microclaw_store::ApprovalRow;
use serde_json::{json, Value};

/// The decisions an operator may give (all three: our tools never forbid `allow-always`).
pub const DECISIONS: &[&str] = &["allow-once", "allow-always", "deny"];

/// `request`: what asked, and the exact command.
pub fn request(r: &ApprovalRow) -> Value {
    json!({
        "sessionKey": r.session_key,
        "agentId": r.agent_id,
        "runId": r.run_id,
        "tool": r.tool,
        "command": r.command,
        "commandPreview": r.command,
        "cwd": r.cwd,
        "host": "gateway",
        "ask": "always",
        "allowedDecisions": DECISIONS,
    })
}

/// The record of `exec.approval.requested` and of `exec.approval.list` items.
pub fn record(r: &ApprovalRow) -> Value {
    json!({
        "id": r.id,
        "kind": r.kind,
        "approvalKind": r.kind,
        "request": request(r),
        "createdAtMs": r.created_at,
        "expiresAtMs": r.expires_at,
        "status": r.status,
    })
}

/// `exec.approval.resolved`: `{id, decision, resolvedBy, resolvedAtMs, …}`.
pub fn resolved(r: &ApprovalRow) -> Value {
    json!({
        "id": r.id,
        "decision": r.decision,
        "resolvedBy": r.resolved_by,
        "resolvedAtMs": r.resolved_at,
        "ts": r.resolved_at,
        "status": r.status,
        "reason": r.reason,
        "request": request(r),
    })
}

/// A settled approval in `approval.history`.
pub fn terminal(r: &ApprovalRow) -> Value {
    json!({
        "id": r.id,
        "kind": r.kind,
        "status": r.status,
        "decision": r.decision,
        "reason": r.reason,
        "resolvedBy": r.resolved_by,
        "createdAtMs": r.created_at,
        "expiresAtMs": r.expires_at,
        "resolvedAtMs": r.resolved_at,
        "request": request(r),
    })
}

/// The `status` stored for a decision.
pub fn status_of(decision: &str) -> &'static str {
    if decision == "deny" {
        "denied"
    } else {
        "allowed"
    }
}
