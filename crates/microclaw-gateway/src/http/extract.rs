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
            Err(r) => Err(ApiError(json_rejection(r))),
        }
    }
}

fn json_rejection(r: JsonRejection) -> Error {
    match r {
        JsonRejection::MissingJsonContentType(_) => Error::new(
            ErrorCode::UnsupportedMediaType,
            "expected content-type: application/json",
        ),
        JsonRejection::JsonSyntaxError(e) => {
            Error::invalid(format!("malformed JSON body: {}", e.body_text()))
        }
        JsonRejection::JsonDataError(e) => {
            let mut err = Error::invalid(format!("invalid JSON body: {}", e.body_text()));
            err.details = Some(serde_json::json!({"http_status": 422}));
            err
        }
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Error::new(
                ErrorCode::PayloadTooLarge,
                "request body is too large: see server.max_body_bytes",
            )
        }
        other => Error::invalid(format!("unreadable request body: {}", other.body_text())),
    }
}

/// A query string.
pub struct Q<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Q(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError(
                Error::invalid(format!("invalid query string: {}", e.body_text())),
            )),
            Err(e) => Err(ApiError(Error::invalid(format!(
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
            ApiError(Error::invalid(format!(
                "{what} '{raw}' is not a valid id: expected a positive integer"
            )))
        })
}
