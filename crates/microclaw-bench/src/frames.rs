//! Bridge frames as the load client sees them: request text out, a small view of what came in.

use serde::Deserialize;
use serde_json::Value;

/// A request frame `{"type":"req","id":ID,"method":M,"params":P}` as JSON text.
pub fn request(id: &str, method: &str, params: Option<&Value>) -> String {
    let mut frame = serde_json::json!({ "type": "req", "id": id, "method": method });
    if let Some(p) = params {
        frame["params"] = p.clone();
    }
    frame.to_string()
}

/// The connect request the bench sends: protocol 3..4, token auth, no client info.
pub fn connect_request(id: &str, token: &str) -> String {
    let params = serde_json::json!({
        "minProtocol": 3,
        "maxProtocol": 4,
        "auth": { "token": token },
    });
    request(id, "connect", Some(&params))
}

/// What one inbound text frame was, without keeping the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A response; `error` is `CODE: message` when `ok` is false.
    Res {
        id: Option<String>,
        ok: bool,
        error: Option<String>,
    },
    /// An event (tick, presence, connect.challenge, …).
    Event { name: String },
    /// Anything else (bad JSON, an unknown `type`).
    Other,
}

#[derive(Deserialize)]
struct RawFrame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    ok: Option<bool>,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    error: Option<RawError>,
}

#[derive(Deserialize)]
struct RawError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Classifies one inbound text frame; the payload is skipped, not kept.
pub fn parse(text: &str) -> Incoming {
    let Ok(raw) = serde_json::from_str::<RawFrame>(text) else {
        return Incoming::Other;
    };
    match raw.kind.as_str() {
        "res" => {
            let ok = raw.ok.unwrap_or(false);
            let id = match raw.id {
                Some(Value::String(s)) => Some(s),
                Some(Value::Null) | None => None,
                Some(other) => Some(other.to_string()),
            };
            let error = (!ok).then(|| {
                let e = raw.error.unwrap_or(RawError {
                    code: None,
                    message: None,
                });
                format!(
                    "{}: {}",
                    e.code.unwrap_or_else(|| "NO_CODE".into()),
                    e.message.unwrap_or_default()
                )
            });
            Incoming::Res { id, ok, error }
        }
        "event" => Incoming::Event {
            name: raw.event.unwrap_or_default(),
        },
        _ => Incoming::Other,
    }
}

/// Parses `--params` text: empty means no params; otherwise it must be a JSON object.
pub fn parse_params(text: Option<&str>) -> anyhow::Result<Option<Value>> {
    let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let v: Value = serde_json::from_str(t)
        .map_err(|e| anyhow::anyhow!("--params is not valid JSON ({e}): expected an object"))?;
    if !v.is_object() {
        anyhow::bail!("--params must be a JSON object such as {{\"limit\":50}}, got {t}");
    }
    Ok(Some(v))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn responses_events_and_junk_are_told_apart() {
        let ok = parse(r#"{"type":"res","id":"7","ok":true,"payload":{"x":[1,2]}}"#);
        assert_eq!(
            ok,
            Incoming::Res {
                id: Some("7".into()),
                ok: true,
                error: None
            }
        );
        let err = parse(
            r#"{"type":"res","id":"8","ok":false,"error":{"code":"RATE_LIMITED","message":"slow"}}"#,
        );
        assert_eq!(
            err,
            Incoming::Res {
                id: Some("8".into()),
                ok: false,
                error: Some("RATE_LIMITED: slow".into())
            }
        );
        let ev = parse(r#"{"type":"event","event":"tick","payload":{"ts":1}}"#);
        assert_eq!(
            ev,
            Incoming::Event {
                name: "tick".into()
            }
        );
        assert_eq!(parse("not json"), Incoming::Other);
        assert_eq!(parse(r#"{"type":"weird"}"#), Incoming::Other);
    }

    #[test]
    fn params_must_be_an_object() {
        assert!(parse_params(None).unwrap().is_none());
        assert!(parse_params(Some("  ")).unwrap().is_none());
        assert!(parse_params(Some(r#"{"limit":50}"#)).unwrap().is_some());
        assert!(parse_params(Some("[1]")).is_err());
        assert!(parse_params(Some("{bad")).is_err());
    }

    #[test]
    fn requests_carry_method_id_and_params() {
        let v: Value =
            serde_json::from_str(&request("3", "health", Some(&serde_json::json!({"a":1}))))
                .unwrap();
        assert_eq!(v["type"], "req");
        assert_eq!(v["id"], "3");
        assert_eq!(v["method"], "health");
        assert_eq!(v["params"]["a"], 1);
        let c: Value = serde_json::from_str(&connect_request("c", "mk_x")).unwrap();
        assert_eq!(c["params"]["auth"]["token"], "mk_x");
        assert_eq!(c["params"]["maxProtocol"], 4);
    }
}
