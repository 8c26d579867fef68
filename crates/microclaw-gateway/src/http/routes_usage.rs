//! Usage and budgets over HTTP: `GET /api/usage?days=` (the bridge's `usage.cost`),
//! `GET /api/usage/export?days=&format=csv`, `GET /api/usage/session?key=` (`sessions.usage`),
//! `GET /api/budgets` and `PUT /api/budgets` (admin; the flat patch of `budgets.set`).

use super::credentials::Caller;
use super::error::{ApiError, ApiResult};
use super::extract::{Body, Q};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use microclaw_core::Error;
use microclaw_engine::ops::{budgets, usage};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
pub struct UsageQuery {
    days: Option<String>,
    format: Option<String>,
    key: Option<String>,
}

fn days(q: &UsageQuery) -> Result<u32, ApiError> {
    let v = q.days.as_ref().map(|d| Value::String(d.clone()));
    Ok(usage::parse_days(v.as_ref())?)
}

pub async fn cost(State(s): State<AppState>, Q(q): Q<UsageQuery>) -> ApiResult<Json<Value>> {
    Ok(Json(usage::usage_cost(&s.engine, days(&q)?).await?))
}

pub async fn export(State(s): State<AppState>, Q(q): Q<UsageQuery>) -> ApiResult<Response> {
    let format = q.format.as_deref().unwrap_or("csv");
    if format != "csv" {
        return Err(Error::invalid(format!(
            "format '{format}' is not supported for the usage export: expected csv"
        ))
        .into());
    }
    let n = days(&q)?;
    let text = usage::usage_csv(&s.engine, n).await?;
    let mut resp = text.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"microclaw-usage-{n}d.csv\""
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

pub async fn session(State(s): State<AppState>, Q(q): Q<UsageQuery>) -> ApiResult<Json<Value>> {
    let key = q.key.as_deref().unwrap_or("main");
    Ok(Json(usage::sessions_usage(&s.engine, key).await?))
}

pub async fn get_budgets(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(budgets::budgets_get(&s.engine).await?))
}

pub async fn put_budgets(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Body(patch): Body<Value>,
) -> ApiResult<Json<Value>> {
    let who =
        c.0.ok_or_else(|| ApiError::from(Error::unauthorized("missing credentials")))?;
    Ok(Json(budgets::budgets_set(&s.engine, &who, &patch).await?))
}
