//! `config.get` / `GET /api/config`: the effective config with secrets redacted.

use crate::engine::Engine;
use serde_json::{json, Value};

pub fn get_redacted(engine: &Engine) -> Value {
    let mut v = serde_json::to_value(engine.config()).unwrap_or_else(|_| json!({}));
    if let Some(headers) = v
        .pointer_mut("/observability/otlp_headers")
        .and_then(Value::as_object_mut)
    {
        for val in headers.values_mut() {
            *val = json!("[redacted]");
        }
    }
    json!({"config": v})
}
