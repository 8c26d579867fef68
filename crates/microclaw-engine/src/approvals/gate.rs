//! The gate before an acting tool runs: match an `allow-always` rule, else store a pending
//! approval, tell the operators, and wait — for a decision, for the run to be killed, or for
//! `expiresAtMs` on the engine clock (checked four times a second, so a test's manual clock
//! expires it without real waiting).

use super::{shapes, RunActivity, Settled};
use crate::engine::Engine;
use crate::events::EngineEvent;
use microclaw_agent::openai::ToolCallCtx;
use microclaw_core::Result;
use microclaw_store::{ApprovalNew, ApprovalRow, ResolveOutcome};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// How often a waiting call looks at the engine clock for its expiry.
const EXPIRY_POLL: Duration = Duration::from_millis(250);

/// Audit kinds of the approval flow.
pub const AUDIT_REQUESTED: &str = "approval.requested";
pub const AUDIT_RESOLVED: &str = "approval.resolved";

pub(crate) async fn pending_count(engine: &Engine) -> usize {
    engine
        .store()
        .read_async(|s| s.approvals_pending_count())
        .await
        .unwrap_or(0)
}

/// Settles a pending approval on the system's behalf (expiry, a killed run); emits and audits
/// when this call made the change. Returns the recorded row either way.
pub(crate) async fn settle_system(
    engine: &Engine,
    id: &str,
    status: &'static str,
    reason: &'static str,
) -> Result<Option<ApprovalRow>> {
    let (id_owned, now) = (id.to_string(), engine.now_ms());
    let out = engine
        .store()
        .write_async(move |s| {
            s.approval_resolve(&id_owned, status, "deny", reason, Some("system"), now)
        })
        .await?;
    Ok(match out {
        ResolveOutcome::Applied(row) => {
            announce_resolved(engine, &row, "system").await;
            Some(row)
        }
        ResolveOutcome::AlreadyResolved(row) => Some(row),
        ResolveOutcome::NotFound => None,
    })
}

/// The `exec.approval.resolved` event and the audit entry of a settled approval.
pub(crate) async fn announce_resolved(engine: &Engine, row: &ApprovalRow, actor: &str) {
    let pending = pending_count(engine).await;
    engine.emit(EngineEvent::ApprovalResolved {
        payload: shapes::resolved(row),
        pending,
    });
    crate::audit::record(
        engine,
        AUDIT_RESOLVED,
        actor,
        Some(&row.id),
        json!({"decision": row.decision, "status": row.status, "reason": row.reason,
               "tool": row.tool, "command": row.command, "sessionKey": row.session_key,
               "agentId": row.agent_id, "runId": row.run_id}),
    )
    .await;
}

/// What a call ends with when its approval did not allow it.
fn refusal(s: &Settled) -> String {
    match s.reason.as_str() {
        "expired" => "denied: the approval expired before an operator answered".into(),
        "run-aborted" => "cancelled".into(),
        "gateway-restart" => "denied: the gateway restarted while the approval was pending".into(),
        _ => "denied by operator".into(),
    }
}

/// Waits for the operator's decision on `tool` with this `command`; `Ok` = run it.
pub async fn await_approval(
    engine: &Arc<Engine>,
    ctx: &ToolCallCtx,
    tool: &str,
    command: &str,
    cwd: &str,
) -> std::result::Result<(), String> {
    let (agent, tool_s, cmd) = (ctx.agent_id.clone(), tool.to_string(), command.to_string());
    let ruled = engine
        .store()
        .read_async(move |s| s.approval_rule_matches(&agent, &tool_s, &cmd))
        .await
        .map_err(|e| format!("approval rules unavailable: {}", e.message))?;
    if ruled {
        return Ok(());
    }
    // The run task may be aborted from here on (a kill drops the agent's future): the guard
    // then settles the approval from a task of its own. Armed before the insert, its settle
    // queues behind the insert on the one writer thread.
    let id = uuid::Uuid::new_v4().to_string();
    let mut guard = PendingGuard {
        engine: engine.clone(),
        id: id.clone(),
        run_id: ctx.run_id.clone(),
        armed: true,
    };
    let mut rx = engine.approvals().add_waiter(&id);
    let row = match open_request(engine, ctx, &id, tool, command, cwd).await {
        Ok(row) => row,
        Err(e) => {
            guard.armed = false;
            engine.approvals().drop_waiter(&id);
            return Err(format!("approval request unavailable: {}", e.message));
        }
    };
    engine
        .approvals()
        .set_waiting(&ctx.run_id, Some(row.id.clone()));
    let pending = pending_count(engine).await;
    engine.emit(EngineEvent::ApprovalRequested {
        record: shapes::record(&row),
        pending,
    });
    crate::audit::record(
        engine,
        AUDIT_REQUESTED,
        &format!("agent:{}", row.agent_id),
        Some(&row.id),
        json!({"tool": row.tool, "command": row.command, "sessionKey": row.session_key,
               "runId": row.run_id, "expiresAtMs": row.expires_at}),
    )
    .await;
    let settled = loop {
        tokio::select! {
            biased;
            r = &mut rx => break r.unwrap_or(Settled { decision: "deny".into(), reason: "run-aborted".into() }),
            _ = ctx.cancel.cancelled() => break system_end(engine, &row.id, "run-aborted").await,
            _ = tokio::time::sleep(EXPIRY_POLL) => {
                if engine.now_ms() >= row.expires_at {
                    break system_end(engine, &row.id, "expired").await;
                }
            }
        }
    };
    guard.armed = false;
    engine.approvals().drop_waiter(&row.id);
    engine.approvals().set_waiting(&ctx.run_id, None);
    if settled.decision.starts_with("allow") && !ctx.cancel.is_cancelled() {
        Ok(())
    } else {
        Err(refusal(&settled))
    }
}

/// Settles a pending approval whose waiting call was dropped (its run was killed).
struct PendingGuard {
    engine: Arc<Engine>,
    id: String,
    run_id: String,
    armed: bool,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        self.engine.approvals().drop_waiter(&self.id);
        self.engine.approvals().clear_activity(&self.run_id);
        let (engine, id) = (self.engine.clone(), std::mem::take(&mut self.id));
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = settle_system(&engine, &id, "expired", "run-aborted").await {
                    tracing::warn!("could not settle approval {id} of a killed run: {e}");
                }
            });
        }
    }
}

/// Expiry or a killed run: settle as `expired`; an operator who answered first wins. The
/// settling runs in a task of its own so that an abort of the run cannot cut it in half.
async fn system_end(engine: &Arc<Engine>, id: &str, reason: &'static str) -> Settled {
    let (e, id) = (engine.clone(), id.to_string());
    let settled =
        tokio::spawn(async move { settle_system(&e, &id, "expired", reason).await }).await;
    match settled {
        Ok(Ok(Some(row))) => Settled {
            decision: row.decision.unwrap_or_else(|| "deny".into()),
            reason: row.reason.unwrap_or_else(|| reason.into()),
        },
        _ => Settled {
            decision: "deny".into(),
            reason: reason.into(),
        },
    }
}

async fn open_request(
    engine: &Engine,
    ctx: &ToolCallCtx,
    id: &str,
    tool: &str,
    command: &str,
    cwd: &str,
) -> Result<ApprovalRow> {
    let cfg = &engine.config().approvals;
    let now = engine.now_ms();
    let new = ApprovalNew {
        id: id.to_string(),
        session_key: ctx.session_key.clone(),
        agent_id: ctx.agent_id.clone(),
        run_id: ctx.run_id.clone(),
        tool: tool.to_string(),
        command: command.to_string(),
        cwd: cwd.to_string(),
        created_at: now,
        expires_at: now.saturating_add(cfg.expiry_ms as i64),
    };
    let prune_before = now.saturating_sub(i64::from(cfg.history_days) * 86_400_000);
    let row = engine
        .store()
        .write_async(move |s| s.approval_insert(&new, prune_before))
        .await?;
    Ok(row)
}

/// Marks what a run is doing (the "now running" view).
pub fn enter_tool(engine: &Engine, ctx: &ToolCallCtx, tool: &str) {
    engine.approvals().set_activity(
        &ctx.run_id,
        RunActivity {
            tool: tool.to_string(),
            since_ms: engine.now_ms(),
            approval_id: None,
        },
    );
}
