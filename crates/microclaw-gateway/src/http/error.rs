//! Every HTTP failure as `{"ok":false,"error":{"code","message"}}` with the matching status
//! (and `Retry-After` on 429).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use microclaw_core::Error;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        // A body that parses but has wrong types is 422 (marked by the extractor).
        let code = e
            .details
            .as_ref()
            .and_then(|d| d.get("http_status"))
            .and_then(|s| s.as_u64());
        let status = StatusCode::from_u16(code.map(|c| c as u16).unwrap_or(e.code.http_status()))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({"ok": false, "error": {"code": e.code.as_str(), "message": e.message}});
        let mut resp = (status, Json(body)).into_response();
        if let Some(secs) = e.retry_after_secs() {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}
