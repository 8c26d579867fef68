//! Metrics routes: snapshot, history, summary, export, Prometheus text. Read paths only:
//! none of these writes to the database.

use super::error::{ApiError, ApiResult};
use super::extract::Q;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use microclaw_core::Error;
use microclaw_metrics::ExportFormat;
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn snapshot(State(s): State<AppState>) -> Json<Value> {
    Json(json!({"ok": true, "metrics": s.engine.metrics().snapshot()}))
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    minutes: Option<u32>,
    step: Option<u32>,
    limit: Option<u32>,
}

fn minutes_in_range(m: Option<u32>) -> Result<u32, ApiError> {
    let m = m.unwrap_or(60);
    if !(1..=43_200).contains(&m) {
        return Err(ApiError::from(Error::invalid(format!(
            "minutes = {m}: expected 1..43200"
        ))));
    }
    Ok(m)
}

pub async fn history(State(s): State<AppState>, Q(q): Q<HistoryQuery>) -> ApiResult<Json<Value>> {
    let minutes = minutes_in_range(q.minutes)?;
    let step = q.step.unwrap_or(60);
    if !(60..=86_400).contains(&step) || step % 60 != 0 {
        return Err(ApiError::from(Error::invalid(format!(
            "step = {step}: expected a multiple of 60 in 60..86400 seconds"
        ))));
    }
    let limit = q.limit.unwrap_or(2000);
    if !(1..=50_000).contains(&limit) {
        return Err(ApiError::from(Error::invalid(format!(
            "limit = {limit}: expected 1..50000"
        ))));
    }
    Ok(Json(
        s.engine.metrics_engine().history(minutes, step, limit)?,
    ))
}

pub async fn summary(State(s): State<AppState>) -> Json<Value> {
    Json(s.engine.metrics_engine().summary())
}

#[derive(Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
    minutes: Option<u32>,
}

pub async fn export(State(s): State<AppState>, Q(q): Q<ExportQuery>) -> ApiResult<Response> {
    let format = q
        .format
        .as_deref()
        .unwrap_or("json")
        .parse::<ExportFormat>()?;
    let minutes = minutes_in_range(q.minutes)?;
    let engine = s.engine.clone();
    // Chart rendering is CPU work: keep it off the async workers.
    let bytes =
        tokio::task::spawn_blocking(move || engine.metrics_engine().export(format, minutes))
            .await
            .map_err(|e| ApiError::from(Error::internal(format!("export task failed: {e}"))))??;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    let name = format!(
        "attachment; filename=\"microclaw-metrics-{minutes}m.{}\"",
        format.extension()
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

pub async fn prometheus(State(s): State<AppState>) -> Response {
    let mut resp = s.engine.metrics_engine().prometheus_text().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}
