//! The approval operations (operations.md §1, openclaw-methods.md §3): `exec.approval.list`,
//! `.get`, `.resolve` (first answer wins), `approval.history`, and the "now running" list.
//! Scope checks (approvals) are the transports'.

use crate::approvals::gate::{announce_resolved, settle_system};
use crate::approvals::{shapes, Settled};
use crate::engine::Engine;
use crate::principal::Principal;
use microclaw_core::{Error, Result};
use microclaw_store::{ApprovalRow, ResolveOutcome};
use serde_json::{json, Value};

/// Most pending approvals listed at once.
pub const MAX_PENDING_LISTED: u32 = 500;
/// Most history items per page.
pub const MAX_HISTORY_LIMIT: u32 = 100;

fn not_found() -> Error {
    Error::invalid("unknown or expired approval id").with_details(json!({
        "reason": "APPROVAL_NOT_FOUND",
        "remediation": "Re-request the action; pending approvals are cleared after expiry or restart."
    }))
}

/// Pending approvals not yet past their expiry, oldest first. One found expired on the way is
/// settled now (its waiter would have done so within a quarter second anyway).
pub async fn pending(engine: &Engine) -> Result<Vec<ApprovalRow>> {
    let rows = engine
        .store()
        .read_async(|s| s.approvals_pending(MAX_PENDING_LISTED))
        .await?;
    let now = engine.now_ms();
    let mut live = Vec::with_capacity(rows.len());
    for r in rows {
        if r.expires_at <= now {
            settle_system(engine, &r.id, "expired", "expired").await?;
        } else {
            live.push(r);
        }
    }
    Ok(live)
}

/// `exec.approval.list` items.
pub async fn list(engine: &Engine) -> Result<Vec<Value>> {
    Ok(pending(engine).await?.iter().map(shapes::record).collect())
}

/// A pending approval by id or unique case-insensitive id prefix.
async fn find_pending(engine: &Engine, id: &str) -> Result<ApprovalRow> {
    let id = id.trim();
    if id.is_empty() {
        return Err(Error::invalid("id is required: expected an approval id"));
    }
    let wanted = id.to_ascii_lowercase();
    let hits: Vec<ApprovalRow> = pending(engine)
        .await?
        .into_iter()
        .filter(|r| r.id.to_ascii_lowercase().starts_with(&wanted))
        .collect();
    if let Some(exact) = hits.iter().find(|r| r.id.eq_ignore_ascii_case(id)) {
        return Ok(exact.clone());
    }
    match hits.len() {
        0 => Err(not_found()),
        1 => Ok(hits.into_iter().next().unwrap_or_else(|| unreachable!())),
        _ => Err(Error::invalid(
            "ambiguous approval id prefix; use the full id",
        )),
    }
}

/// `exec.approval.get`.
pub async fn get(engine: &Engine, id: &str) -> Result<Value> {
    let r = find_pending(engine, id).await?;
    Ok(json!({
        "id": r.id,
        "commandText": r.command,
        "commandPreview": r.command,
        "allowedDecisions": shapes::DECISIONS,
        "host": "gateway",
        "nodeId": null,
        "agentId": r.agent_id,
        "createdAtMs": r.created_at,
        "expiresAtMs": r.expires_at,
        "request": shapes::request(&r),
    }))
}

/// `exec.approval.resolve`: the first answer wins; the same answer again is `{ok:true}`, a
/// different one an error carrying the recorded decision.
pub async fn resolve(
    engine: &Engine,
    who: &Principal,
    id: &str,
    decision: &str,
    reason: Option<&str>,
) -> Result<Value> {
    if !shapes::DECISIONS.contains(&decision) {
        return Err(Error::invalid(format!(
            "invalid decision '{decision}': expected one of allow-once, allow-always, deny"
        )));
    }
    let target = match find_pending(engine, id).await {
        Ok(r) => r,
        Err(e) => {
            // Already settled? Answer with the recorded decision rather than "unknown".
            let exact = id.trim().to_string();
            match engine
                .store()
                .read_async(move |s| s.approval_get(&exact))
                .await?
            {
                Some(r) if r.status != "pending" => return already(&r, decision),
                _ => return Err(e),
            }
        }
    };
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or("user")
        .to_string();
    let (rid, dec, actor, now) = (
        target.id.clone(),
        decision.to_string(),
        who.actor.clone(),
        engine.now_ms(),
    );
    let status = shapes::status_of(decision);
    let reason_w = reason.clone();
    let out = engine
        .store()
        .write_async(move |s| s.approval_resolve(&rid, status, &dec, &reason_w, Some(&actor), now))
        .await?;
    let row = match out {
        ResolveOutcome::Applied(row) => row,
        ResolveOutcome::AlreadyResolved(row) => return already(&row, decision),
        ResolveOutcome::NotFound => return Err(not_found()),
    };
    if decision == "allow-always" {
        let (a, t, c, i) = (
            row.agent_id.clone(),
            row.tool.clone(),
            row.command.clone(),
            row.id.clone(),
        );
        engine
            .store()
            .write_async(move |s| s.approval_rule_add(&a, &t, &c, &i, now))
            .await?;
    }
    engine.approvals().wake(
        &row.id,
        Settled {
            decision: decision.to_string(),
            reason,
        },
    );
    announce_resolved(engine, &row, &who.actor).await;
    Ok(json!({"ok": true, "id": row.id, "decision": row.decision, "status": row.status}))
}

fn already(r: &ApprovalRow, decision: &str) -> Result<Value> {
    if r.decision.as_deref() == Some(decision) {
        return Ok(json!({"ok": true, "id": r.id, "decision": r.decision, "status": r.status}));
    }
    Err(
        Error::invalid("approval already resolved").with_details(json!({
            "reason": "APPROVAL_ALREADY_RESOLVED",
            "id": r.id,
            "decision": r.decision,
            "status": r.status,
            "resolvedBy": r.resolved_by,
            "resolvedAtMs": r.resolved_at,
        })),
    )
}

/// `approval.history`: settled approvals newest first; `cursor` is the `nextCursor` of the
/// page before.
pub async fn history(engine: &Engine, cursor: Option<&str>, limit: Option<u32>) -> Result<Value> {
    let limit = limit.unwrap_or(50).clamp(1, MAX_HISTORY_LIMIT);
    let before = match cursor {
        None => None,
        Some(c) => {
            let (at, id) = c
                .split_once(':')
                .and_then(|(a, i)| a.parse::<i64>().ok().map(|a| (a, i.to_string())))
                .filter(|(_, i)| !i.is_empty())
                .ok_or_else(|| Error::invalid("invalid approval.history cursor: pass back the nextCursor of the previous page"))?;
            Some((at, id))
        }
    };
    let rows = engine
        .store()
        .read_async(move |s| {
            s.approvals_history(before.as_ref().map(|(a, i)| (*a, i.as_str())), limit + 1)
        })
        .await?;
    let more = rows.len() > limit as usize;
    let items: Vec<Value> = rows
        .iter()
        .take(limit as usize)
        .map(shapes::terminal)
        .collect();
    let mut out = json!({"items": items});
    if more {
        if let Some(last) = rows.get(limit as usize - 1) {
            out["nextCursor"] = json!(format!("{}:{}", last.resolved_at.unwrap_or(0), last.id));
        }
    }
    Ok(out)
}

/// `runs.active`: every active run with its session, agent, elapsed time, tokens so far, the
/// tool it is in and the approval it waits on.
pub fn active_runs(engine: &Engine) -> Value {
    let now = engine.now_ms();
    let active = engine.runs().active_list();
    let ids: std::collections::HashSet<&str> = active.iter().map(|r| r.run_id.as_str()).collect();
    engine.approvals().retain_runs(&ids);
    let runs: Vec<Value> = active
        .iter()
        .map(|r| {
            let act = engine.approvals().activity(&r.run_id);
            json!({
                "runId": r.run_id,
                "sessionKey": r.session_key,
                "agentId": r.agent_id,
                "startedAtMs": r.started_at,
                "elapsedMs": (now - r.started_at).max(0),
                "tool": act.as_ref().map(|a| a.tool.clone()),
                "toolSinceMs": act.as_ref().map(|a| a.since_ms),
                "waitingApprovalId": act.as_ref().and_then(|a| a.approval_id.clone()),
                "waitingForApproval": act.as_ref().is_some_and(|a| a.approval_id.is_some()),
                "inputTokens": r.input_tokens,
                "outputTokens": r.output_tokens,
                "tokens": r.input_tokens + r.output_tokens,
                "toolCalls": r.tool_calls,
            })
        })
        .collect();
    json!({"runs": runs, "ts": now})
}
