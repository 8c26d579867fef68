//! `agents.list` and `models.list`.

use crate::engine::Engine;
use serde_json::{json, Value};

pub fn agents_list(engine: &Engine) -> Value {
    json!({"agents": engine.runs().agents().list()})
}

pub fn models_list(engine: &Engine) -> Value {
    json!({"models": engine.runs().agents().models()})
}
