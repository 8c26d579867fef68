//! Mission Control's approval pair (operations.md §1): `GET /api/exec-approvals` →
//! `{approvals:[pending…]}`, `POST /api/exec-approvals/respond {id, action, reason?}` with
//! `action` approve | always | deny; and `GET /api/exec-approvals/history`. Scope
//! `operator.approvals`, like the bridge's `exec.approval.*`.

use super::credentials::Caller;
use super::error::ApiResult;
use super::extract::{Body, Q};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use microclaw_core::Error;
use microclaw_engine::ops::approvals;
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn list(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"approvals": approvals::list(&s.engine).await?}),
    ))
}

#[derive(Debug, Deserialize)]
pub struct RespondBody {
    id: Option<String>,
    action: Option<String>,
    reason: Option<String>,
}

/// Mission Control's actions as the bridge's decisions.
fn decision_of(action: &str) -> Result<&'static str, Error> {
    match action {
        "approve" | "allow-once" => Ok("allow-once"),
        "always" | "allow-always" => Ok("allow-always"),
        "deny" => Ok("deny"),
        other => Err(Error::invalid(format!(
            "action '{other}' is not known: expected \"approve\", \"always\" or \"deny\""
        ))),
    }
}

pub async fn respond(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
    Body(body): Body<RespondBody>,
) -> ApiResult<Json<Value>> {
    let who = who
        .as_ref()
        .ok_or_else(|| Error::unauthorized("unauthorized: a credential is required"))?;
    let id = body
        .id
        .as_deref()
        .filter(|i| !i.trim().is_empty())
        .ok_or_else(|| Error::invalid("id is required: expected the approval id"))?;
    let action = body.action.as_deref().ok_or_else(|| {
        Error::invalid("action is required: expected \"approve\", \"always\" or \"deny\"")
    })?;
    let decision = decision_of(action)?;
    let v = approvals::resolve(&s.engine, who, id, decision, body.reason.as_deref()).await?;
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    cursor: Option<String>,
    limit: Option<u32>,
}

pub async fn history(State(s): State<AppState>, Q(q): Q<HistoryQuery>) -> ApiResult<Json<Value>> {
    Ok(Json(
        approvals::history(&s.engine, q.cursor.as_deref(), q.limit).await?,
    ))
}
