//! `GET /api/alerts?state=&since=&rule=&limit=` (read): every alert rule's state, the firing
//! alerts and the stored transitions. Also the freeze context middleware (the
//! `X-Microclaw-Override` header and the caller, for the change-freeze guard).

use super::credentials::Caller;
use super::error::ApiResult;
use super::extract::Q;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::Json;
use microclaw_engine::ops::{alerts, freeze};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, Default)]
pub struct AlertsQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    since: Option<i64>,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

pub async fn list(State(s): State<AppState>, Q(q): Q<AlertsQuery>) -> ApiResult<Json<Value>> {
    Ok(Json(
        alerts::list(
            &s.engine,
            q.state.as_deref(),
            q.since,
            q.rule.as_deref(),
            q.limit,
        )
        .await?,
    ))
}

/// The header `X-Microclaw-Override: <reason>`.
pub const OVERRIDE_HEADER: &str = "x-microclaw-override";

/// Runs the request with its freeze context (override header, caller) for `freeze::guard`.
pub async fn freeze_context(req: Request, next: Next) -> Response {
    let override_reason = req
        .headers()
        .get(OVERRIDE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let actor = req
        .extensions()
        .get::<Caller>()
        .and_then(|c| c.0.as_ref())
        .map(|p| p.actor.clone());
    freeze::with_request(
        freeze::RequestCtx {
            override_reason,
            actor,
        },
        next.run(req),
    )
    .await
}
