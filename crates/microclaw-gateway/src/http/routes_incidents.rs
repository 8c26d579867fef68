//! `/api/incidents` (operations.md §4): list, open by hand, get with the timeline, owner,
//! notes, status and the Markdown postmortem. Thin adapters over
//! `microclaw_engine::ops::incidents`.

use super::credentials::Caller;
use super::error::ApiResult;
use super::extract::{path_id, Body, Q};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use microclaw_engine::ops::{incident_export, incidents};
use serde::Deserialize;
use serde_json::Value;

fn actor(c: &Caller) -> String {
    c.0.as_ref()
        .map(|p| p.actor.clone())
        .unwrap_or_else(|| "unknown".into())
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

pub async fn list(State(s): State<AppState>, Q(q): Q<ListQuery>) -> ApiResult<Json<Value>> {
    Ok(Json(
        incidents::list(&s.engine, q.status.as_deref(), q.limit).await?,
    ))
}

pub async fn create(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Body(b): Body<Value>,
) -> ApiResult<Json<Value>> {
    Ok(Json(incidents::create(&s.engine, &actor(&c), &b).await?))
}

pub async fn get(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = path_id(&id, "incident id")?;
    Ok(Json(incidents::get(&s.engine, id).await?))
}

fn field<'a>(b: &'a Value, k: &str) -> Option<&'a str> {
    b.get(k).and_then(Value::as_str)
}

pub async fn owner(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&id, "incident id")?;
    Ok(Json(
        incidents::set_owner(&s.engine, &actor(&c), id, field(&b, "owner")).await?,
    ))
}

pub async fn notes(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&id, "incident id")?;
    Ok(Json(
        incidents::add_note(&s.engine, &actor(&c), id, field(&b, "text")).await?,
    ))
}

pub async fn status(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
    Body(b): Body<Value>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&id, "incident id")?;
    Ok(Json(
        incidents::set_status(&s.engine, &actor(&c), id, field(&b, "status")).await?,
    ))
}

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    #[serde(default)]
    format: Option<String>,
}

/// `GET /api/incidents/{id}/export?format=md`: `text/markdown`, as an attachment.
pub async fn export(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<ExportQuery>,
) -> ApiResult<Response> {
    let id = path_id(&id, "incident id")?;
    let md = incident_export::export(&s.engine, id, q.format.as_deref().unwrap_or("md")).await?;
    let mut resp = md.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/markdown; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"incident-{id}-postmortem.md\""
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
