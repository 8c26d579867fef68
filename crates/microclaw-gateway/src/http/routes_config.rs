//! Health, presence, config and the self-check.

use super::error::ApiResult;
use super::extract::Q;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use microclaw_engine::ops::{config, presence, status};
use microclaw_engine::presence::PresencePage;
use serde::Deserialize;
use serde_json::{json, Value};

/// `GET|HEAD /health` and `/api/health`: memory only. Both carry `Server:
/// microclaw-console/<version>` and `x-openclaw-version` (OpenClaw clients read it); HEAD gets
/// the same headers without a body (axum drops the body for HEAD).
pub async fn health(State(s): State<AppState>) -> ApiResult<impl axum::response::IntoResponse> {
    let body = status::health(&s.engine)?;
    let server = format!("microclaw-console/{}", microclaw_core::VERSION);
    Ok((
        [
            (axum::http::header::SERVER, server),
            (
                axum::http::HeaderName::from_static("x-openclaw-version"),
                microclaw_core::VERSION.to_string(),
            ),
        ],
        Json(body),
    ))
}

#[derive(Deserialize)]
pub struct PresenceQuery {
    limit: Option<i64>,
}

/// `GET /api/presence?limit=`: `{count, presence:[…]}`, the same list as the bridge's
/// `system-presence`, with the total.
pub async fn presence(
    State(s): State<AppState>,
    Q(q): Q<PresenceQuery>,
) -> ApiResult<Json<PresencePage>> {
    Ok(Json(presence::list(&s.engine, q.limit)?))
}

pub async fn get_config(State(s): State<AppState>) -> Json<Value> {
    let mut v = config::get_redacted(&s.engine);
    v["ok"] = json!(true);
    Json(v)
}

pub async fn self_check(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let check = s
        .engine
        .blocking_read(microclaw_engine::self_check::run)
        .await?;
    Ok(Json(serde_json::to_value(check).unwrap_or_default()))
}

pub async fn put_config(
    State(s): State<AppState>,
    axum::Extension(c): axum::Extension<super::credentials::Caller>,
    super::extract::Body(patch): super::extract::Body<Value>,
) -> ApiResult<Json<Value>> {
    let who = c.0.ok_or_else(|| {
        super::error::ApiError::from(microclaw_core::Error::unauthorized("missing credentials"))
    })?;
    Ok(Json(config::put(&s.engine, &who, patch).await?))
}
