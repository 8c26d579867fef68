//! `GET/PUT /api/freeze` (the change freeze) and the config versions:
//! `GET /api/config/versions`, `POST /api/config/rollback {version}` (never frozen).

use super::credentials::Caller;
use super::error::ApiResult;
use super::extract::{Body, Q};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use microclaw_engine::ops::{config_versions, freeze};
use serde::Deserialize;
use serde_json::Value;

fn actor(c: &Caller) -> String {
    c.0.as_ref()
        .map(|p| p.actor.clone())
        .unwrap_or_else(|| "unknown".into())
}

pub async fn get(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(freeze::get(&s.engine).await?))
}

pub async fn put(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Body(b): Body<Value>,
) -> ApiResult<Json<Value>> {
    Ok(Json(freeze::set(&s.engine, &actor(&c), &b).await?))
}

#[derive(Deserialize, Default)]
pub struct VersionsQuery {
    #[serde(default)]
    limit: Option<i64>,
}

pub async fn versions(State(s): State<AppState>, Q(q): Q<VersionsQuery>) -> ApiResult<Json<Value>> {
    Ok(Json(config_versions::list(&s.engine, q.limit).await?))
}

pub async fn rollback(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Body(b): Body<Value>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        config_versions::rollback(&s.engine, &actor(&c), &b).await?,
    ))
}
