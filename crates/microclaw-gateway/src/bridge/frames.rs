//! The three JSON frame kinds of the bridge (§1): inbound requests, outbound responses and
//! events. Parsing never panics; a frame that is not a well-formed request is reported with
//! the reason, so the caller can answer `INVALID_REQUEST` with `id:null`.

use serde_json::{json, Map, Value};

/// The protocol version negotiated for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    V3,
    V4,
}

impl Proto {
    pub fn number(self) -> u8 {
        match self {
            Proto::V3 => 3,
            Proto::V4 => 4,
        }
    }
}

/// A parsed `{type:"req", id, method, params?}` frame. `id` is echoed back verbatim
/// (a string, or a number from lenient clients).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: Value,
    pub method: String,
    pub params: Value,
}

/// Parses one text frame as a request. Unknown top-level keys (e.g. `traceparent`) are ignored.
/// The error names what was wrong and what is expected.
pub fn parse_request(text: &str) -> Result<Request, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("frame is not valid JSON ({e}): expected a JSON object"))?;
    let Value::Object(mut obj) = value else {
        return Err(
            "frame is not a JSON object: expected {type:\"req\", id, method, params?}".into(),
        );
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("req") => {}
        Some(other) => {
            return Err(format!(
                "frame type '{other}' is not accepted from clients: expected \"req\""
            ))
        }
        None => return Err("frame has no string \"type\": expected \"req\"".into()),
    }
    let id = match obj.remove("id") {
        Some(Value::String(s)) if !s.is_empty() => Value::String(s),
        Some(Value::Number(n)) => Value::Number(n),
        _ => return Err("request has no \"id\": expected a non-empty string".into()),
    };
    let method = match obj.remove("method") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err("request has no \"method\": expected a non-empty string".into()),
    };
    let params = obj.remove("params").unwrap_or(Value::Null);
    Ok(Request { id, method, params })
}

/// `{type:"res", id, ok:true, payload}`.
pub fn response_ok(id: &Value, payload: Value) -> Value {
    json!({"type": "res", "id": id, "ok": true, "payload": payload})
}

/// `{type:"res", id, ok:false, error}` with an already-rendered error object.
pub fn response_err(id: &Value, error: Value) -> Value {
    json!({"type": "res", "id": id, "ok": false, "error": error})
}

/// `{type:"event", event, payload, seq?}`.
pub fn event(name: &str, payload: Value, seq: Option<u64>) -> Value {
    let mut obj = Map::with_capacity(4);
    obj.insert("type".into(), Value::from("event"));
    obj.insert("event".into(), Value::from(name));
    obj.insert("payload".into(), payload);
    if let Some(seq) = seq {
        obj.insert("seq".into(), Value::from(seq));
    }
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_keeps_its_id_and_params_and_ignores_unknown_keys() {
        let r = parse_request(
            r#"{"type":"req","id":"7","method":" health ","params":{"a":1},"traceparent":"x"}"#,
        )
        .unwrap();
        assert_eq!(
            r,
            Request {
                id: json!("7"),
                method: "health".into(),
                params: json!({"a":1})
            }
        );
        let r = parse_request(r#"{"type":"req","id":9,"method":"ping"}"#).unwrap();
        assert_eq!(r.id, json!(9), "numeric ids are echoed back as numbers");
        assert_eq!(r.params, Value::Null);
    }

    #[test]
    fn malformed_frames_say_what_is_expected() {
        for (frame, needle) in [
            ("not json", "not valid JSON"),
            ("[1,2]", "not a JSON object"),
            (r#"{"type":"res","id":"1","method":"x"}"#, "type 'res'"),
            (r#"{"id":"1","method":"x"}"#, "no string \"type\""),
            (r#"{"type":"req","method":"x"}"#, "no \"id\""),
            (r#"{"type":"req","id":"","method":"x"}"#, "no \"id\""),
            (r#"{"type":"req","id":"1"}"#, "no \"method\""),
        ] {
            let err = parse_request(frame).unwrap_err();
            assert!(err.contains(needle), "{frame}: {err}");
        }
    }

    #[test]
    fn events_carry_seq_only_when_given() {
        assert_eq!(
            event("tick", json!({"ts":1}), None),
            json!({"type":"event","event":"tick","payload":{"ts":1}})
        );
        assert_eq!(event("tick", json!({}), Some(3))["seq"], json!(3));
    }
}
