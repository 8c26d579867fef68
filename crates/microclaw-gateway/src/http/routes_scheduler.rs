//! `/api/scheduler/…`: the jobs, their runs and the dead-letter queue; thin adapters over
//! `microclaw_engine::ops::cron` (the bridge's `cron.*` / `cron.dlq.*`, same shapes).

use super::credentials::Caller;
use super::error::ApiResult;
use super::extract::{OptionalBody, Q};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use microclaw_engine::ops::cron::{self, P};
use serde_json::{json, Value};
use std::collections::HashMap;

fn query(q: HashMap<String, String>) -> P {
    q.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
}

fn body(v: Value) -> P {
    match v {
        Value::Object(m) => m,
        _ => P::new(),
    }
}

fn with_id(mut p: P, id: String) -> P {
    p.insert("id".into(), json!(id));
    p
}

pub async fn list(
    State(s): State<AppState>,
    Q(q): Q<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    Ok(Json(cron::list(&s.engine, &query(q)).await?))
}

pub async fn status(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(cron::status(&s.engine).await?))
}

pub async fn add(
    State(s): State<AppState>,
    OptionalBody(b): OptionalBody<Value>,
) -> ApiResult<Json<Value>> {
    Ok(Json(cron::add(&s.engine, &body(b)).await?))
}

pub async fn get(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(cron::get(&s.engine, &with_id(P::new(), id)).await?))
}

/// `PATCH /api/scheduler/jobs/{id}`: the body is the patch (or `{patch, expectedConfigRevision}`).
pub async fn update(
    State(s): State<AppState>,
    Path(id): Path<String>,
    OptionalBody(b): OptionalBody<Value>,
) -> ApiResult<Json<Value>> {
    let mut p = body(b);
    if !p.contains_key("patch") {
        p = P::from_iter([("patch".to_string(), Value::Object(p))]);
    }
    Ok(Json(cron::update(&s.engine, &with_id(p, id)).await?))
}

pub async fn remove(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(cron::remove(&s.engine, &with_id(P::new(), id)).await?))
}

pub async fn run(
    State(s): State<AppState>,
    Path(id): Path<String>,
    OptionalBody(b): OptionalBody<Value>,
) -> ApiResult<Json<Value>> {
    Ok(Json(cron::run(&s.engine, &with_id(body(b), id)).await?))
}

pub async fn runs(
    State(s): State<AppState>,
    Q(q): Q<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    Ok(Json(cron::runs(&s.engine, &query(q)).await?))
}

pub async fn preview(
    State(s): State<AppState>,
    Q(q): Q<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    Ok(Json(cron::preview(&s.engine, &query(q))?))
}

pub async fn dlq_list(
    State(s): State<AppState>,
    Q(q): Q<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let mut p = query(q);
    if let Some(v) = p.get("includeResolved").cloned() {
        p.insert("includeResolved".into(), json!(v == "true" || v == "1"));
    }
    Ok(Json(cron::dlq_list(&s.engine, &p).await?))
}

pub async fn dlq_replay(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        cron::dlq_replay(&s.engine, &with_id(P::new(), id)).await?,
    ))
}

pub async fn dlq_discard(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let actor = who.map(|w| w.actor).unwrap_or_else(|| "http".into());
    Ok(Json(
        cron::dlq_discard(&s.engine, &actor, &with_id(P::new(), id)).await?,
    ))
}
