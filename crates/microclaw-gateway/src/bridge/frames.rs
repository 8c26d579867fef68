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
///
/// Only the envelope is taken apart: unknown keys are skipped without building values, and
/// only `params` (when present) becomes a JSON tree — no tree of the whole frame is built.
pub fn parse_request(text: &str) -> Result<Request, String> {
    let env: Envelope = match serde_json::from_str(text) {
        Ok(env) => env,
        // The envelope accepts any value for every field: a data error can only mean the
        // frame itself is not an object.
        Err(e) if e.is_data() => {
            return Err(
                "frame is not a JSON object: expected {type:\"req\", id, method, params?}".into(),
            )
        }
        Err(e) => {
            return Err(format!(
                "frame is not valid JSON ({e}): expected a JSON object"
            ))
        }
    };
    match env.kind.as_ref().and_then(Value::as_str) {
        Some("req") => {}
        Some(other) => {
            return Err(format!(
                "frame type '{other}' is not accepted from clients: expected \"req\""
            ))
        }
        None => return Err("frame has no string \"type\": expected \"req\"".into()),
    }
    let id = match env.id {
        Some(Value::String(s)) if !s.is_empty() => Value::String(s),
        Some(Value::Number(n)) => Value::Number(n),
        _ => return Err("request has no \"id\": expected a non-empty string".into()),
    };
    let method = match env.method {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            if s.trim().len() == s.len() {
                s
            } else {
                s.trim().to_string()
            }
        }
        _ => return Err("request has no \"method\": expected a non-empty string".into()),
    };
    Ok(Request {
        id,
        method,
        params: env.params.unwrap_or(Value::Null),
    })
}

/// The four keys of a request frame; the last occurrence of a repeated key wins (as it does
/// when the frame is read into a JSON object).
#[derive(Default)]
struct Envelope {
    kind: Option<Value>,
    id: Option<Value>,
    method: Option<Value>,
    params: Option<Value>,
}

impl<'de> serde::Deserialize<'de> for Envelope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EnvelopeVisitor)
    }
}

struct EnvelopeVisitor;

impl<'de> serde::de::Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
        let mut env = Envelope::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let slot = match key.as_ref() {
                "type" => &mut env.kind,
                "id" => &mut env.id,
                "method" => &mut env.method,
                "params" => &mut env.params,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value()?);
        }
        Ok(env)
    }
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

/// Response and event frames written straight to text (no JSON tree for the envelope; the
/// payload is serialized once, into the frame's own buffer). The keys come in the order
/// `type, id, ok, payload|error` and `type, event, payload, seq`; the frames are JSON-equal to
/// [`response_ok`], [`response_err`] and [`event`] serialized.
pub mod text {
    use serde::Serialize;
    use serde_json::Value;

    fn finish(buf: Vec<u8>) -> String {
        // serde_json writes UTF-8 only; the check is a cheap scan, never a panic.
        String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into())
    }

    fn put<T: Serialize + ?Sized>(buf: &mut Vec<u8>, v: &T) {
        if serde_json::to_writer(&mut *buf, v).is_err() {
            // Only a map with non-string keys can fail; no payload of ours has one.
            buf.extend_from_slice(b"null");
        }
    }

    fn head(id: &Value, ok: bool, capacity: usize) -> Vec<u8> {
        let mut buf = Vec::with_capacity(capacity + 48);
        buf.extend_from_slice(br#"{"type":"res","id":"#);
        put(&mut buf, id);
        buf.extend_from_slice(if ok {
            br#","ok":true,"payload":"#.as_slice()
        } else {
            br#","ok":false,"error":"#.as_slice()
        });
        buf
    }

    /// `{type:"res", id, ok:true, payload}`.
    pub fn response_ok<T: Serialize + ?Sized>(id: &Value, payload: &T) -> String {
        let mut buf = head(id, true, 64);
        put(&mut buf, payload);
        buf.push(b'}');
        finish(buf)
    }

    /// `{type:"res", id, ok:true, payload}` around a payload that is already JSON text.
    pub fn response_ok_raw(id: &Value, payload: &str) -> String {
        // One allocation, sized for the whole frame up front; only the head is checked as
        // UTF-8, the (possibly large) payload is appended as the `str` it already is.
        let mut text = finish(head(id, true, payload.len() + 1));
        text.push_str(payload);
        text.push('}');
        text
    }

    /// `{type:"res", id, ok:false, error}`.
    pub fn response_err(id: &Value, error: &Value) -> String {
        let mut buf = head(id, false, 96);
        put(&mut buf, error);
        buf.push(b'}');
        finish(buf)
    }

    /// `{type:"event", event, payload, seq?}`.
    pub fn event(name: &str, payload: &Value, seq: Option<u64>) -> String {
        let mut buf = Vec::with_capacity(96);
        buf.extend_from_slice(br#"{"type":"event","event":"#);
        put(&mut buf, name);
        buf.extend_from_slice(br#","payload":"#);
        put(&mut buf, payload);
        if let Some(seq) = seq {
            buf.extend_from_slice(br#","seq":"#);
            put(&mut buf, &seq);
        }
        buf.push(b'}');
        finish(buf)
    }

    /// `{type:"event", event, payload, seq?}` around a payload that is already JSON text.
    pub fn event_raw(name: &str, payload: &str, seq: Option<u64>) -> String {
        let mut buf = Vec::with_capacity(payload.len() + 64);
        buf.extend_from_slice(br#"{"type":"event","event":"#);
        put(&mut buf, name);
        buf.extend_from_slice(br#","payload":"#);
        buf.extend_from_slice(payload.as_bytes());
        if let Some(seq) = seq {
            buf.extend_from_slice(br#","seq":"#);
            put(&mut buf, &seq);
        }
        buf.push(b'}');
        finish(buf)
    }
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

    fn parsed(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn text_frames_equal_the_json_tree_frames() {
        let payload = json!({"ok":true,"nested":{"a":[1,2,"x\"y"]},"s":"é\n"});
        for id in [json!("r-1"), json!(42), json!("quote\"d")] {
            assert_eq!(
                parsed(&text::response_ok(&id, &payload)),
                response_ok(&id, payload.clone())
            );
            let raw = serde_json::to_string(&payload).unwrap();
            assert_eq!(
                parsed(&text::response_ok_raw(&id, &raw)),
                response_ok(&id, payload.clone())
            );
            let err = json!({"code":"INVALID_REQUEST","message":"bad"});
            assert_eq!(
                parsed(&text::response_err(&id, &err)),
                response_err(&id, err.clone())
            );
        }
        for seq in [None, Some(0), Some(u64::MAX)] {
            assert_eq!(
                parsed(&text::event("chat", &payload, seq)),
                event("chat", payload.clone(), seq)
            );
        }
        assert_eq!(
            text::response_ok(&json!("1"), &json!({"ts":5})),
            r#"{"type":"res","id":"1","ok":true,"payload":{"ts":5}}"#
        );
    }

    /// The envelope parser against the old whole-tree reading of the same frames.
    fn parse_as_tree(text: &str) -> Option<Request> {
        let Value::Object(mut o) = serde_json::from_str::<Value>(text).ok()? else {
            return None;
        };
        if o.get("type")?.as_str()? != "req" {
            return None;
        }
        Some(Request {
            id: o.remove("id")?,
            method: o.remove("method")?.as_str()?.trim().to_string(),
            params: o.remove("params").unwrap_or(Value::Null),
        })
    }

    #[test]
    fn the_envelope_parser_reads_what_the_tree_reads() {
        for frame in [
            r#"{"type":"req","id":"1","method":"health"}"#,
            r#"{"method":"sessions.list","params":{"limit":5,"search":"a"},"id":"x","type":"req"}"#,
            r#"{"type":"req","id":"1","method":"a","method":"b","params":null}"#,
            r#"{"type":"req","id":"1","method":"x","extra":{"deep":[1,{"k":null}]},"params":[1]}"#,
            r#"{"ty\u0070e":"req","id":"\u0031","method":"ping"}"#,
            r#" {"type":"req","id":3,"method":"\tping "} "#,
        ] {
            assert_eq!(parse_request(frame).ok(), parse_as_tree(frame), "{frame}");
        }
        for bad in ["null", "\"req\"", "{\"type\":\"req\"", "{} x", ""] {
            assert!(parse_request(bad).is_err(), "{bad}");
        }
    }
}
