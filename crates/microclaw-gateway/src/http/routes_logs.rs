//! `GET /api/logs?cursor=&limit=&maxBytes=`: the same lines as the bridge's `logs.tail`.

use super::error::ApiResult;
use super::extract::Q;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use microclaw_engine::log_ring::Tail;
use microclaw_engine::ops::logs::{self, TailParams};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LogsQuery {
    cursor: Option<i64>,
    limit: Option<i64>,
    #[serde(rename = "maxBytes", alias = "max_bytes")]
    max_bytes: Option<i64>,
}

pub async fn tail(State(s): State<AppState>, Q(q): Q<LogsQuery>) -> ApiResult<Json<Tail>> {
    let params = TailParams {
        cursor: q.cursor,
        limit: q.limit,
        max_bytes: q.max_bytes,
    };
    Ok(Json(logs::tail(&s.engine, params).await?))
}
