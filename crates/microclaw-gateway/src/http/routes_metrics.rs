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
use microclaw_metrics::history::DEFAULT_LIMIT;
use microclaw_metrics::{ExportFormat, HistoryFormat, HistoryRequest};
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
    format: Option<String>,
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

/// `?minutes&step&limit&format=points|columns`; the engine validates `step` and `limit` and
/// picks the step when `step` is absent. The work runs off the async workers.
pub async fn history(State(s): State<AppState>, Q(q): Q<HistoryQuery>) -> ApiResult<Json<Value>> {
    let req = HistoryRequest {
        minutes: minutes_in_range(q.minutes)?,
        step_seconds: q.step,
        limit: q.limit.unwrap_or(DEFAULT_LIMIT),
        format: match q.format.as_deref() {
            None => HistoryFormat::Points,
            Some(f) => f.parse::<HistoryFormat>()?,
        },
    };
    Ok(Json(s.engine.metrics_engine().history_async(req).await?))
}

pub async fn summary(State(s): State<AppState>) -> Json<Value> {
    Json(s.engine.metrics_engine().summary_async().await)
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
    // Chart rendering is CPU work: export_async keeps it off the async workers.
    let bytes = s
        .engine
        .metrics_engine()
        .export_async(format, minutes)
        .await?;
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
