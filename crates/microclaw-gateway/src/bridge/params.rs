//! Lenient parameter reading for bridge methods (§4): unknown keys are ignored, `null` means
//! absent, numbers may arrive as numeric strings, and every bad value is an
//! `INVALID_REQUEST` "invalid <method> params: …" naming the field and what is expected.

use super::errors::BridgeError;
use microclaw_core::normalize_session_key;
use serde_json::{Map, Value};

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

/// The params object of one request.
pub struct Params<'a> {
    method: &'a str,
    obj: &'a Map<String, Value>,
}

impl<'a> Params<'a> {
    /// `null`/absent params are an empty object; anything but an object is an error.
    pub fn new(method: &'a str, raw: &'a Value) -> Result<Self, BridgeError> {
        match raw {
            Value::Null => Ok(Params {
                method,
                obj: &EMPTY,
            }),
            Value::Object(obj) => Ok(Params { method, obj }),
            other => Err(BridgeError::params(
                method,
                format!("params must be an object, got {}", kind(other)),
            )),
        }
    }

    pub fn err(&self, why: impl std::fmt::Display) -> BridgeError {
        BridgeError::params(self.method, why)
    }

    /// The whole params object (operations that read it themselves, e.g. `cron.*`).
    pub fn raw(&self) -> &'a Map<String, Value> {
        self.obj
    }

    /// The raw value of a key; `null` counts as absent.
    pub fn value(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    pub fn has(&self, key: &str) -> bool {
        self.obj.contains_key(key)
    }

    /// True when no param was given (`{}` or absent).
    pub fn is_empty(&self) -> bool {
        self.obj.is_empty()
    }

    /// An optional string.
    pub fn str_opt(&self, key: &str) -> Result<Option<&'a str>, BridgeError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.err(format!("{key} must be a string, got {}", kind(other)))),
        }
    }

    /// The first present key of `keys` as a string, e.g. `level` or `value`.
    pub fn str_any(&self, keys: &[&str]) -> Result<Option<&'a str>, BridgeError> {
        for k in keys {
            if let Some(s) = self.str_opt(k)? {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }

    /// A required non-empty (after trimming) string.
    pub fn str_required(&self, key: &str) -> Result<&'a str, BridgeError> {
        match self.str_opt(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(self.err(format!("{key} is required: expected a non-empty string"))),
        }
    }

    /// `sessionKey` | `key` | `session_key`, trimmed; absent or blank means `main`.
    pub fn session_key(&self) -> Result<String, BridgeError> {
        let raw = self.str_any(&["sessionKey", "key", "session_key"])?;
        normalize_session_key(raw).map_err(|e| self.err(e.message))
    }

    /// An optional integer within `[min, max]`; numeric strings are accepted.
    pub fn int_opt(&self, key: &str, min: i64, max: i64) -> Result<Option<i64>, BridgeError> {
        let Some(v) = self.value(key) else {
            return Ok(None);
        };
        let n = match v {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            Some(n) => Err(self.err(format!(
                "{key} is {n}: expected an integer from {min} to {max}"
            ))),
            None => Err(self.err(format!(
                "{key} must be an integer from {min} to {max}, got {}",
                kind(v)
            ))),
        }
    }

    /// A required integer.
    pub fn int_required(&self, key: &str, min: i64, max: i64) -> Result<i64, BridgeError> {
        self.int_opt(key, min, max)?.ok_or_else(|| {
            self.err(format!(
                "{key} is required: expected an integer from {min} to {max}"
            ))
        })
    }

    /// An optional list of strings (non-string entries are an error naming the field).
    pub fn str_list_opt(&self, key: &str) -> Result<Option<Vec<&'a str>>, BridgeError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| self.err(format!("{key} must be a list of strings")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(self.err(format!(
                "{key} must be a list of strings, got {}",
                kind(other)
            ))),
        }
    }

    /// A nested object as params of its own (absent → empty).
    pub fn object(&self, key: &str) -> Result<Params<'a>, BridgeError> {
        match self.value(key) {
            None => Ok(Params {
                method: self.method,
                obj: &EMPTY,
            }),
            Some(Value::Object(obj)) => Ok(Params {
                method: self.method,
                obj,
            }),
            Some(other) => Err(self.err(format!("{key} must be an object, got {}", kind(other)))),
        }
    }
}

/// A JSON value's kind, for error messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(e: BridgeError) -> String {
        match e {
            BridgeError::Op(e) => e.message,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn session_key_accepts_three_spellings_and_defaults_to_main() {
        for raw in [
            json!({"sessionKey":" a "}),
            json!({"key":"a"}),
            json!({"session_key":"a"}),
        ] {
            assert_eq!(Params::new("m", &raw).unwrap().session_key().unwrap(), "a");
        }
        assert_eq!(
            Params::new("m", &Value::Null)
                .unwrap()
                .session_key()
                .unwrap(),
            "main"
        );
        assert_eq!(
            Params::new("m", &json!({"sessionKey":null,"extra":1}))
                .unwrap()
                .session_key()
                .unwrap(),
            "main"
        );
        let err = msg(Params::new("m", &json!({"sessionKey":5}))
            .unwrap()
            .session_key()
            .unwrap_err());
        assert_eq!(
            err,
            "invalid m params: sessionKey must be a string, got a number"
        );
    }

    #[test]
    fn integers_are_range_checked_and_may_be_numeric_strings() {
        let raw = json!({"limit":"20","bad":0,"weird":"x"});
        let p = Params::new("chat.history", &raw).unwrap();
        assert_eq!(p.int_opt("limit", 1, 1000).unwrap(), Some(20));
        assert_eq!(p.int_opt("missing", 1, 1000).unwrap(), None);
        assert!(msg(p.int_opt("bad", 1, 1000).unwrap_err())
            .contains("bad is 0: expected an integer from 1 to 1000"));
        assert!(msg(p.int_opt("weird", 1, 9).unwrap_err()).contains("weird must be an integer"));
    }

    #[test]
    fn non_object_params_and_blank_required_strings_are_rejected() {
        assert!(msg(Params::new("chat.send", &json!([1])).err().unwrap())
            .contains("params must be an object"));
        let raw = json!({"message":"  "});
        let p = Params::new("chat.send", &raw).unwrap();
        assert_eq!(
            msg(p.str_required("message").unwrap_err()),
            "invalid chat.send params: message is required: expected a non-empty string"
        );
    }
}
