//! `/api/devices`: the device pairing list and the operator's actions on it (scope
//! `operator.pairing`, like the bridge's `device.pair.*`). Thin adapters over
//! `microclaw_engine::ops::devices`.

use super::credentials::Caller;
use super::error::ApiResult;
use super::extract::OptionalBody;
use crate::bridge::devices_connected;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use microclaw_core::Error;
use microclaw_engine::ops::devices;
use microclaw_engine::Principal;
use serde::Deserialize;
use serde_json::Value;

/// HTTP bodies carry `ok: true` beside the operation's fields.
fn ok(mut v: Value) -> Json<Value> {
    if let Value::Object(m) = &mut v {
        m.insert("ok".into(), Value::Bool(true));
    }
    Json(v)
}

fn caller(who: &Option<Principal>) -> Result<&Principal, Error> {
    who.as_ref()
        .ok_or_else(|| Error::unauthorized("unauthorized: a credential is required"))
}

/// `GET /api/devices`: `{pending, paired}` (paired entries carry `connected`).
pub async fn list(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let engine = &s.engine;
    let v = devices::list(engine, |id| devices_connected::is_connected(engine, id)).await?;
    Ok(ok(v))
}

/// `POST /api/devices/requests/{requestId}/approve`.
pub async fn approve(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
    Path(request_id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(ok(
        devices::approve(&s.engine, caller(&who)?, &request_id).await?
    ))
}

/// `POST /api/devices/requests/{requestId}/reject`.
pub async fn reject(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
    Path(request_id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(ok(
        devices::reject(&s.engine, caller(&who)?, &request_id).await?
    ))
}

/// `POST /api/devices/{deviceId}/remove`.
pub async fn remove(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
    Path(device_id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(ok(
        devices::remove(&s.engine, caller(&who)?, &device_id).await?
    ))
}

#[derive(Deserialize, Default)]
pub struct RenameBody {
    label: Option<String>,
}

/// `POST /api/devices/{deviceId}/rename` with `{label}`.
pub async fn rename(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
    Path(device_id): Path<String>,
    OptionalBody(b): OptionalBody<RenameBody>,
) -> ApiResult<Json<Value>> {
    let label = b.label.unwrap_or_default();
    Ok(ok(devices::rename(
        &s.engine,
        caller(&who)?,
        &device_id,
        &label,
    )
    .await?))
}

/// `POST /api/devices/{deviceId}/revoke`: the device's identity is refused from then on.
pub async fn revoke(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
    Path(device_id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(ok(devices::token_revoke(
        &s.engine,
        caller(&who)?,
        &device_id,
        None,
    )
    .await?))
}
