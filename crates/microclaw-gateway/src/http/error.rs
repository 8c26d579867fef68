//! Every HTTP failure as `{"ok":false,"error":{"code","message"}}` with the matching status
//! (and `Retry-After` on 429).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use microclaw_core::Error;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub error: Error,
    /// A status other than the code's own (422 for well-formed JSON of the wrong shape, 405).
    status: Option<StatusCode>,
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError {
            error,
            status: None,
        }
    }
}

impl ApiError {
    pub fn with_status(error: Error, status: StatusCode) -> Self {
        ApiError {
            error,
            status: Some(status),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.error;
        let status = self.status.unwrap_or_else(|| {
            StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        });
        // The change freeze (decisions.md): 423 {error:{code:"CHANGE_FREEZE", message, incidentId}}.
        let frozen = e.details.as_ref().filter(|d| d["code"] == "CHANGE_FREEZE");
        if let Some(d) = frozen {
            let body = json!({"ok": false, "error": {"code": "CHANGE_FREEZE", "message": e.message, "incidentId": d["incidentId"]}});
            return (StatusCode::LOCKED, Json(body)).into_response();
        }
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
