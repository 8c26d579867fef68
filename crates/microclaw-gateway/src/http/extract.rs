//! Extractors whose failures are our JSON errors: bodies (content type, size, syntax, types),
//! query strings and path ids.

use super::error::ApiError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use microclaw_core::{Error, ErrorCode};
use serde::de::DeserializeOwned;

/// A JSON request body.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(r) => Err(json_rejection(r)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    let e = match r {
        JsonRejection::MissingJsonContentType(_) => Error::new(
            ErrorCode::UnsupportedMediaType,
            "expected content-type: application/json",
        ),
        JsonRejection::JsonSyntaxError(e) => {
            Error::invalid(format!("malformed JSON body: {}", e.body_text()))
        }
        JsonRejection::JsonDataError(e) => {
            return ApiError::with_status(
                Error::invalid(format!("invalid JSON body: {}", e.body_text())),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            body_too_large()
        }
        other => Error::invalid(format!("unreadable request body: {}", other.body_text())),
    };
    ApiError::from(e)
}

/// 413 for a body over `server.max_body_bytes` (also used by routes that read raw bytes).
pub fn body_too_large() -> Error {
    Error::new(
        ErrorCode::PayloadTooLarge,
        "request body is too large: see server.max_body_bytes",
    )
}

/// A JSON body that may be absent: an empty (or blank) body is `T::default()`; anything else
/// follows the same rules as [`Body`].
pub struct OptionalBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| {
                ApiError::from(if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    body_too_large()
                } else {
                    Error::invalid(format!("unreadable request body: {}", r.body_text()))
                })
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(T::default()));
        }
        if !json_type {
            return Err(ApiError::from(Error::new(
                ErrorCode::UnsupportedMediaType,
                "expected content-type: application/json",
            )));
        }
        Json::<T>::from_bytes(&bytes)
            .map(|Json(v)| OptionalBody(v))
            .map_err(json_rejection)
    }
}

/// A query string.
pub struct Q<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Q(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError::from(
                Error::invalid(format!("invalid query string: {}", e.body_text())),
            )),
            Err(e) => Err(ApiError::from(Error::invalid(format!(
                "invalid query string: {}",
                e.body_text()
            )))),
        }
    }
}

/// Parses a numeric path id, naming it in the error.
pub fn path_id(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| {
            ApiError::from(Error::invalid(format!(
                "{what} '{raw}' is not a valid id: expected a positive integer"
            )))
        })
}
