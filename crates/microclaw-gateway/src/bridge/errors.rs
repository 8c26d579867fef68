//! Bridge errors and how each protocol renders them (§2, §4, §6). Protocol 3 (MicroClaw)
//! uses distinct codes (`UNSUPPORTED_PROTOCOL`, `UNAUTHORIZED`, `METHOD_NOT_FOUND`);
//! protocol 4 (OpenClaw) answers `INVALID_REQUEST` with a `details.code` instead.

use super::frames::Proto;
use microclaw_core::{Error, ErrorCode, Scope};
use serde_json::{json, Map, Value};

/// Default retry hint for retryable errors that carry none.
const DEFAULT_RETRY_AFTER_MS: u64 = 1000;

#[derive(Debug, Clone, PartialEq)]
pub enum BridgeError {
    /// An operation's error: rendered with the same code in both protocols.
    Op(Error),
    UnknownMethod(String),
    ProtocolMismatch,
    /// Authentication failed; `detail` is `AUTH_TOKEN_MISMATCH`, `AUTH_TOKEN_MISSING`,
    /// `AUTH_RATE_LIMITED` or `DEVICE_REVOKED`.
    Auth {
        detail: &'static str,
        message: String,
        retry_after_ms: Option<u64>,
    },
    /// A device identity that did not verify; `detail` is one of the `DEVICE_AUTH_*` codes.
    Device {
        detail: &'static str,
        message: String,
    },
    MissingScope(Scope),
}

impl From<Error> for BridgeError {
    fn from(e: Error) -> Self {
        BridgeError::Op(e)
    }
}

impl BridgeError {
    /// `INVALID_REQUEST` "invalid <method> params: <why>".
    pub fn params(method: &str, why: impl std::fmt::Display) -> Self {
        BridgeError::Op(Error::invalid(format!("invalid {method} params: {why}")))
    }

    /// The code as rendered for `proto` (what metrics and logs report).
    pub fn code(&self, proto: Proto) -> &'static str {
        self.render(proto)["code"]
            .as_str()
            .map(code_static)
            .unwrap_or("INTERNAL_ERROR")
    }

    /// The `error` object of a response frame.
    pub fn render(&self, proto: Proto) -> Value {
        let v4 = proto == Proto::V4;
        match self {
            BridgeError::Op(e) => render_op(e),
            BridgeError::UnknownMethod(m) if v4 => shape(
                "INVALID_REQUEST",
                &format!("unknown method: {m}"),
                None,
                None,
            ),
            BridgeError::UnknownMethod(m) => shape(
                "METHOD_NOT_FOUND",
                &format!("unknown method: {m}"),
                None,
                None,
            ),
            BridgeError::ProtocolMismatch => {
                let details = json!({"code": "PROTOCOL_MISMATCH", "expectedProtocol": 4, "minimumProtocol": 3});
                let code = if v4 {
                    "INVALID_REQUEST"
                } else {
                    "UNSUPPORTED_PROTOCOL"
                };
                shape(
                    code,
                    "protocol mismatch: this server speaks protocols 3 and 4",
                    Some(details),
                    None,
                )
            }
            BridgeError::Auth {
                detail,
                message,
                retry_after_ms,
            } => {
                let details = Some(json!({"code": detail}));
                let code = match (v4, retry_after_ms.is_some()) {
                    (true, _) => "INVALID_REQUEST",
                    (false, true) => "RATE_LIMITED",
                    (false, false) => "UNAUTHORIZED",
                };
                let mut v = shape(code, message, details, None);
                if let Some(ms) = retry_after_ms {
                    v["retryable"] = Value::Bool(true);
                    v["retryAfterMs"] = json!(ms);
                }
                v
            }
            BridgeError::Device { detail, message } => {
                let code = if v4 {
                    "INVALID_REQUEST"
                } else {
                    "UNAUTHORIZED"
                };
                shape(code, message, Some(json!({"code": detail})), None)
            }
            BridgeError::MissingScope(s) => shape(
                "FORBIDDEN",
                &format!("missing scope: {s}"),
                Some(json!({"code": "MISSING_SCOPE", "missingScope": s.as_str()})),
                None,
            ),
        }
    }
}

fn render_op(e: &Error) -> Value {
    // The bridge speaks only the codes of §6; HTTP-only codes become INVALID_REQUEST with the
    // original code kept in details (unless the operation supplied details of its own).
    let (code, details) = match e.code {
        ErrorCode::Conflict | ErrorCode::PayloadTooLarge | ErrorCode::UnsupportedMediaType => (
            "INVALID_REQUEST",
            e.details
                .clone()
                .or_else(|| Some(json!({"code": e.code.as_str()}))),
        ),
        c => (c.as_str(), e.details.clone()),
    };
    // An operation may say a retry cannot help (`details.retryable:false`: an exhausted
    // per-session budget, a change freeze): then no retry hint.
    let no_retry = e
        .details
        .as_ref()
        .and_then(|d| d.get("retryable"))
        .and_then(Value::as_bool)
        == Some(false);
    let retry = (e.code.retryable() && !no_retry)
        .then(|| e.retry_after_ms.unwrap_or(DEFAULT_RETRY_AFTER_MS));
    let mut v = shape(code, &e.message, details, retry);
    if no_retry {
        v["retryable"] = Value::Bool(false);
    }
    v
}

fn shape(code: &str, message: &str, details: Option<Value>, retry_after_ms: Option<u64>) -> Value {
    let mut obj = Map::with_capacity(5);
    obj.insert("code".into(), Value::from(code));
    obj.insert("message".into(), Value::from(message));
    if let Some(d) = details {
        obj.insert("details".into(), d);
    }
    if let Some(ms) = retry_after_ms {
        obj.insert("retryable".into(), Value::Bool(true));
        obj.insert("retryAfterMs".into(), Value::from(ms));
    }
    Value::Object(obj)
}

fn code_static(s: &str) -> &'static str {
    const ALL: [&str; 9] = [
        "INVALID_REQUEST",
        "UNSUPPORTED_PROTOCOL",
        "UNAUTHORIZED",
        "FORBIDDEN",
        "RATE_LIMITED",
        "NOT_FOUND",
        "METHOD_NOT_FOUND",
        "UNAVAILABLE",
        "INTERNAL_ERROR",
    ];
    ALL.into_iter()
        .find(|c| *c == s)
        .unwrap_or("INTERNAL_ERROR")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_method_differs_by_protocol() {
        let e = BridgeError::UnknownMethod("nope".into());
        assert_eq!(e.render(Proto::V3)["code"], "METHOD_NOT_FOUND");
        let v4 = e.render(Proto::V4);
        assert_eq!(v4["code"], "INVALID_REQUEST");
        assert_eq!(v4["message"], "unknown method: nope");
    }

    #[test]
    fn protocol_mismatch_carries_details_and_p3_gets_its_own_code() {
        let v4 = BridgeError::ProtocolMismatch.render(Proto::V4);
        assert_eq!(v4["code"], "INVALID_REQUEST");
        assert_eq!(
            v4["details"],
            json!({"code":"PROTOCOL_MISMATCH","expectedProtocol":4,"minimumProtocol":3})
        );
        assert_eq!(
            BridgeError::ProtocolMismatch.render(Proto::V3)["code"],
            "UNSUPPORTED_PROTOCOL"
        );
    }

    #[test]
    fn auth_failures_are_unauthorized_in_p3_and_detailed_in_p4() {
        let e = BridgeError::Auth {
            detail: "AUTH_TOKEN_MISMATCH",
            message: "bad".into(),
            retry_after_ms: None,
        };
        assert_eq!(e.render(Proto::V3)["code"], "UNAUTHORIZED");
        assert_eq!(
            e.render(Proto::V4)["details"]["code"],
            "AUTH_TOKEN_MISMATCH"
        );
        let limited = BridgeError::Auth {
            detail: "AUTH_RATE_LIMITED",
            message: "slow".into(),
            retry_after_ms: Some(5),
        };
        let v3 = limited.render(Proto::V3);
        assert_eq!(
            (
                v3["code"].as_str(),
                v3["retryable"].as_bool(),
                v3["retryAfterMs"].as_u64()
            ),
            (Some("RATE_LIMITED"), Some(true), Some(5))
        );
    }

    #[test]
    fn retryable_op_errors_carry_a_retry_hint_and_http_only_codes_are_mapped() {
        let v = BridgeError::Op(Error::unavailable("busy")).render(Proto::V4);
        assert_eq!(
            (v["retryable"].as_bool(), v["retryAfterMs"].as_u64()),
            (Some(true), Some(DEFAULT_RETRY_AFTER_MS))
        );
        let v = BridgeError::Op(Error::conflict("exists")).render(Proto::V3);
        assert_eq!(
            (v["code"].as_str(), v["details"]["code"].as_str()),
            (Some("INVALID_REQUEST"), Some("CONFLICT"))
        );
        assert!(
            v.get("retryable").is_none(),
            "non-retryable errors carry no retry hint"
        );
    }

    #[test]
    fn missing_scope_names_it() {
        let v = BridgeError::MissingScope(Scope::Write).render(Proto::V3);
        assert_eq!(
            v["details"],
            json!({"code":"MISSING_SCOPE","missingScope":"operator.write"})
        );
        assert_eq!(
            BridgeError::MissingScope(Scope::Write).code(Proto::V4),
            "FORBIDDEN"
        );
    }
}
