//! `/api/gateways` (operations.md §5): the fleet registry, probe history, probe now, and
//! `POST /api/gateways/{id}/call` forwarding one call (read methods for read scope, anything
//! else admin; the route itself needs read, the handler checks the rest). Thin adapters over
//! `microclaw_engine::ops::fleet`. The token is accepted, never returned.

use super::credentials::Caller;
use super::error::ApiResult;
use super::extract::{path_id, Body, Q};
use crate::bridge::handlers_fleet::check_forward;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use microclaw_core::Error;
use microclaw_engine::ops::fleet;
use microclaw_engine::Principal;
use serde::Deserialize;
use serde_json::Value;

fn caller(who: &Option<Principal>) -> Result<&Principal, Error> {
    who.as_ref()
        .ok_or_else(|| Error::unauthorized("unauthorized: a credential is required"))
}

#[derive(Deserialize)]
pub struct AddBody {
    name: String,
    url: String,
    token: String,
    #[serde(default)]
    kind: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct UpdateBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

#[derive(Deserialize)]
pub struct CallBody {
    method: String,
    #[serde(default)]
    params: Option<Value>,
}

#[derive(Deserialize, Default)]
pub struct HistoryQuery {
    #[serde(default)]
    limit: Option<i64>,
}

/// `GET /api/gateways`: `{gateways: [local, ...], tokenStore}`.
pub async fn list(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(fleet::list(&s.engine).await?))
}

/// `POST /api/gateways {name, url, token, kind?}`.
pub async fn add(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
    Body(b): Body<AddBody>,
) -> ApiResult<Json<Value>> {
    let g = fleet::add(
        &s.engine,
        caller(&who)?,
        &b.name,
        &b.url,
        &b.token,
        b.kind.as_deref(),
    )
    .await?;
    Ok(Json(g))
}

/// `GET /api/gateways/{id}`.
pub async fn get_one(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = path_id(&id, "gateway id")?;
    Ok(Json(fleet::gateway_json(&fleet::get(&s.engine, id).await?)))
}

/// `PATCH /api/gateways/{id} {name?, url?, token?, kind?}`.
pub async fn update(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
    Path(id): Path<String>,
    Body(b): Body<UpdateBody>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&id, "gateway id")?;
    let g = fleet::update(
        &s.engine,
        caller(&who)?,
        id,
        b.name.as_deref(),
        b.url.as_deref(),
        b.token.as_deref(),
        b.kind.as_deref(),
    )
    .await?;
    Ok(Json(g))
}

/// `DELETE /api/gateways/{id}`.
pub async fn remove(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&id, "gateway id")?;
    Ok(Json(fleet::remove(&s.engine, caller(&who)?, id).await?))
}

/// `GET /api/gateways/{id}/history?limit=`.
pub async fn history(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Q(q): Q<HistoryQuery>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&id, "gateway id")?;
    Ok(Json(fleet::history(&s.engine, id, q.limit).await?))
}

/// `POST /api/gateways/{id}/probe`: probe now.
pub async fn probe(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = path_id(&id, "gateway id")?;
    Ok(Json(fleet::probe(&s.engine, id).await?))
}

/// `POST /api/gateways/{id}/call {method, params}`: `{ok: true, payload}`.
pub async fn call(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
    Path(id): Path<String>,
    Body(b): Body<CallBody>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&id, "gateway id")?;
    check_forward(caller(&who)?, &b.method)?;
    let params = b.params.unwrap_or(Value::Object(Default::default()));
    let payload = fleet::call(&s.engine, id, &b.method, params).await?;
    Ok(Json(serde_json::json!({"ok": true, "payload": payload})))
}
