//! `GET /api/sessions/export?session_key=&format=md|json`: a whole transcript as a download,
//! streamed page by page from `ops::session_export` (a large session is never held in full).
//! Errors known before the first byte (unknown session, bad format) are the usual JSON error.

use super::error::ApiResult;
use super::extract::Q;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use microclaw_engine::ops::session_export::{self, ExportStream};
use microclaw_engine::Engine;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
pub struct ExportQuery {
    #[serde(alias = "sessionKey", alias = "key")]
    session_key: Option<String>,
    format: Option<String>,
}

pub async fn export(State(s): State<AppState>, Q(q): Q<ExportQuery>) -> ApiResult<Response> {
    let stream =
        session_export::open(&s.engine, q.session_key.as_deref(), q.format.as_deref()).await?;
    let (content_type, file_name) = (stream.format.content_type(), stream.file_name());
    let chunks = futures_util::stream::unfold(
        Some((stream, s.engine.clone())),
        |state: Option<(ExportStream, Arc<Engine>)>| async move {
            let (mut stream, engine) = state?;
            match stream.next_chunk(&engine).await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some((stream, engine)))),
                Ok(None) => None,
                Err(e) => {
                    // The status line is gone already: end the body early (the client sees
                    // a truncated transfer) and say why in the log.
                    tracing::warn!(error = %e.message, "session export stopped");
                    Some((Err(std::io::Error::other(e.message)), None))
                }
            }
        },
    );
    let mut resp = Body::from_stream(chunks).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
