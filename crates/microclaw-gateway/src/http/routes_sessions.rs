//! Session REST routes: thin adapters over `ops::sessions` and `ops::chat`.

use super::credentials::Caller;
use super::error::{ApiError, ApiResult};
use super::extract::{Body, Q};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use microclaw_core::Error;
use microclaw_engine::ops::{chat, sessions};
use microclaw_engine::Principal;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

fn caller(c: &Caller) -> Result<&Principal, ApiError> {
    c.0.as_ref()
        .ok_or_else(|| ApiError::from(Error::unauthorized("missing credentials")))
}

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<u32>,
    offset: Option<u64>,
    search: Option<String>,
}

pub async fn list(
    State(s): State<AppState>,
    Q(q): Q<ListQuery>,
) -> ApiResult<axum::response::Response> {
    let page = sessions::list(
        &s.engine,
        sessions::ListParams {
            limit: q.limit,
            offset: q.offset,
            search: q.search,
        },
    )
    .await?;
    let body = ListResponse {
        ok: true,
        sessions: &page.sessions,
        total: page.total,
        has_more: page.has_more,
    };
    Ok(axum::response::IntoResponse::into_response(Json(body)))
}

#[derive(serde::Serialize)]
struct ListResponse<'a> {
    ok: bool,
    sessions: &'a [sessions::SessionView],
    total: i64,
    has_more: bool,
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    session_key: Option<String>,
    limit: Option<u32>,
    before: Option<i64>,
}

pub async fn history(State(s): State<AppState>, Q(q): Q<HistoryQuery>) -> ApiResult<Json<Value>> {
    let page = sessions::history(&s.engine, q.session_key.as_deref(), q.limit, q.before).await?;
    let messages: Vec<Value> = page
        .messages
        .iter()
        .map(|m| json!({"id": m.id, "role": m.role, "content": m.text, "timestamp": m.created_at}))
        .collect();
    Ok(Json(
        json!({"ok": true, "session_key": page.key, "messages": messages, "has_more": page.has_more}),
    ))
}

#[derive(Deserialize)]
pub struct TreeQuery {
    root: Option<String>,
    limit: Option<u32>,
}

pub async fn tree(State(s): State<AppState>, Q(q): Q<TreeQuery>) -> ApiResult<Json<Value>> {
    let nodes = sessions::tree(&s.engine, q.root.as_deref(), q.limit).await?;
    let nodes: Vec<Value> = nodes.iter().map(sessions::tree_node_json).collect();
    Ok(Json(json!({"ok": true, "nodes": nodes})))
}

#[derive(Deserialize)]
pub struct ForkBody {
    source_session_key: String,
    target_session_key: Option<String>,
    fork_point: Option<i64>,
}

pub async fn fork(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Body(b): Body<ForkBody>,
) -> ApiResult<Json<Value>> {
    if b.source_session_key.trim().is_empty() {
        return Err(ApiError::from(Error::invalid(
            "source_session_key is empty: expected the session to fork",
        )));
    }
    let r = sessions::fork(
        &s.engine,
        caller(&c)?,
        Some(&b.source_session_key),
        b.target_session_key.as_deref(),
        b.fork_point,
    )
    .await?;
    Ok(Json(serde_json::to_value(r).unwrap_or_default()))
}

#[derive(Deserialize)]
pub struct KeyBody {
    session_key: String,
}

fn required_key(k: &str) -> Result<&str, ApiError> {
    if k.trim().is_empty() {
        return Err(ApiError::from(Error::invalid(
            "session_key is empty: expected a session key",
        )));
    }
    Ok(k)
}

pub async fn delete(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Body(b): Body<KeyBody>,
) -> ApiResult<Json<Value>> {
    let (key, deleted) =
        sessions::delete(&s.engine, caller(&c)?, Some(required_key(&b.session_key)?)).await?;
    Ok(Json(
        json!({"ok": true, "deleted": deleted, "session_key": key}),
    ))
}

pub async fn reset(
    State(s): State<AppState>,
    Extension(c): Extension<Caller>,
    Body(b): Body<KeyBody>,
) -> ApiResult<Json<Value>> {
    let (key, reset) =
        sessions::reset(&s.engine, caller(&c)?, Some(required_key(&b.session_key)?)).await?;
    Ok(Json(
        json!({"ok": true, "reset": reset, "session_key": key}),
    ))
}

/// Distinguishes an absent field (None) from `null` (Some(None)).
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
pub struct SettingsBody {
    session_key: String,
    #[serde(default, deserialize_with = "nullable")]
    label: Option<Option<String>>,
    thinking_level: Option<String>,
    verbose_level: Option<String>,
    reasoning_level: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    agent_id: Option<Option<String>>,
}

pub async fn settings(
    State(s): State<AppState>,
    Body(b): Body<SettingsBody>,
) -> ApiResult<Json<Value>> {
    let row = sessions::patch(
        &s.engine,
        Some(required_key(&b.session_key)?),
        sessions::SettingsParams {
            label: b.label,
            thinking_level: b.thinking_level,
            verbose_level: b.verbose_level,
            reasoning_level: b.reasoning_level,
            agent: b.agent_id,
        },
    )
    .await?;
    Ok(Json(
        json!({"ok": true, "key": row.key, "entry": sessions::session_json(&s.engine, &row)}),
    ))
}

#[derive(Deserialize)]
pub struct SendBody {
    session_key: Option<String>,
    message: String,
}

pub async fn send(State(s): State<AppState>, Body(b): Body<SendBody>) -> ApiResult<Json<Value>> {
    let (key, run_id, outcome) =
        chat::send_and_wait(&s.engine, b.session_key.as_deref(), &b.message).await?;
    match outcome.state.as_str() {
        "final" => Ok(Json(
            json!({"ok": true, "session_key": key, "run_id": run_id,
                   "session_id": outcome.session_id, "response": outcome.text}),
        )),
        "aborted" => Err(ApiError::from(Error::conflict(format!(
            "run {run_id} was aborted before it finished"
        )))),
        _ => Err(ApiError::from(Error::internal(format!(
            "run {run_id} ended in error: {}",
            outcome
                .error_message
                .unwrap_or_else(|| "unknown error".into())
        )))),
    }
}
