//! The chat-completions wire format: request bodies, streamed chunk payloads, and the
//! accumulation of tool-call fragments into whole calls.

use super::tools::ToolSpec;
use microclaw_core::ThinkingLevel;
use serde::Deserialize;
use serde_json::{json, Value};

pub const SYSTEM_PROMPT: &str = "You are the MicroClaw operator assistant. Answer concisely. \
You may inspect the running gateway with the read-only tools you are given.";

/// `reasoning_effort` for a thinking level (`None` when thinking is off).
pub fn reasoning_effort(level: ThinkingLevel) -> Option<&'static str> {
    match level {
        ThinkingLevel::Off => None,
        ThinkingLevel::Minimal | ThinkingLevel::Low => Some("low"),
        ThinkingLevel::Medium => Some("medium"),
        ThinkingLevel::High => Some("high"),
    }
}

/// The opening messages of a conversation: system prompt, history, the user's message.
pub fn initial_messages(history: &[(String, String)], message: &str) -> Vec<Value> {
    let mut msgs = vec![json!({"role": "system", "content": SYSTEM_PROMPT})];
    for (role, text) in history {
        if role == "user" || role == "assistant" {
            msgs.push(json!({"role": role, "content": text}));
        }
    }
    msgs.push(json!({"role": "user", "content": message}));
    msgs
}

/// A streaming chat-completions request body.
pub fn request_body(
    model: &str,
    messages: &[Value],
    tools: &[ToolSpec],
    level: ThinkingLevel,
) -> Value {
    let mut body = json!({
        "model": model,
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    if !tools.is_empty() {
        body["tools"] = tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters}})
            })
            .collect();
    }
    if let Some(effort) = reasoning_effort(level) {
        body["reasoning_effort"] = json!(effort);
    }
    body
}

#[derive(Debug, Deserialize, Default)]
pub struct StreamChunk {
    #[serde(default)]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<Usage>,
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Debug, Deserialize, Default)]
pub struct Choice {
    #[serde(default)]
    pub delta: Delta,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct Delta {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub tool_calls: Vec<ToolCallDelta>,
}

#[derive(Debug, Deserialize, Default)]
pub struct ToolCallDelta {
    #[serde(default)]
    pub index: usize,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize, Default)]
pub struct FunctionDelta {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
}

#[derive(Debug, Deserialize, Default, Clone, Copy)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
}

/// Parses one `data:` payload; a provider `error` object becomes an error message.
pub fn parse_chunk(data: &str) -> Result<StreamChunk, String> {
    let chunk: StreamChunk = serde_json::from_str(data).map_err(|e| {
        let shown: String = data.chars().take(120).collect();
        format!("malformed SSE data from provider ({e}): {shown}")
    })?;
    if let Some(err) = &chunk.error {
        let msg = err
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| err.to_string());
        return Err(format!("provider reported an error mid-stream: {msg}"));
    }
    Ok(chunk)
}

/// A complete tool call requested by the model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// Collects tool-call fragments (keyed by `index`) into whole calls.
#[derive(Debug, Default)]
pub struct ToolCallAccumulator {
    calls: Vec<ToolCall>,
}

/// More tool calls than this in one reply is refused as malformed.
const MAX_TOOL_CALLS: usize = 16;

impl ToolCallAccumulator {
    pub fn push(&mut self, d: &ToolCallDelta) -> Result<(), String> {
        if d.index >= MAX_TOOL_CALLS {
            return Err(format!(
                "provider sent tool call index {}: at most {MAX_TOOL_CALLS} calls are accepted",
                d.index
            ));
        }
        while self.calls.len() <= d.index {
            self.calls.push(ToolCall::default());
        }
        let call = &mut self.calls[d.index];
        if let Some(id) = &d.id {
            call.id.clone_from(id);
        }
        if let Some(f) = &d.function {
            if let Some(name) = &f.name {
                call.name.push_str(name);
            }
            if let Some(args) = &f.arguments {
                call.arguments.push_str(args);
            }
        }
        Ok(())
    }

    /// The finished calls (ones without a name are dropped; missing ids are filled in).
    pub fn finish(self) -> Vec<ToolCall> {
        self.calls
            .into_iter()
            .enumerate()
            .filter(|(_, c)| !c.name.is_empty())
            .map(|(i, mut c)| {
                if c.id.is_empty() {
                    c.id = format!("call_{i}");
                }
                c
            })
            .collect()
    }
}

/// The assistant message that records the model's tool calls in the conversation.
pub fn assistant_tool_message(content: &str, calls: &[ToolCall]) -> Value {
    let calls: Vec<Value> = calls
        .iter()
        .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
        .collect();
    let content = if content.is_empty() {
        Value::Null
    } else {
        json!(content)
    };
    json!({"role": "assistant", "content": content, "tool_calls": calls})
}

pub fn tool_result_message(call_id: &str, content: &str) -> Value {
    json!({"role": "tool", "tool_call_id": call_id, "content": content})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_maps_thinking_to_reasoning_effort_and_lists_tools() {
        let msgs = initial_messages(
            &[("user".into(), "hi".into()), ("system".into(), "x".into())],
            "now",
        );
        assert_eq!(
            msgs.len(),
            3,
            "system prompt + user history (other roles dropped) + message"
        );
        let tools = vec![ToolSpec {
            name: "self_check".into(),
            description: "d".into(),
            parameters: json!({}),
        }];
        let body = request_body("m", &msgs, &tools, ThinkingLevel::Medium);
        assert_eq!(body["reasoning_effort"], "medium");
        assert_eq!(body["tools"][0]["function"]["name"], "self_check");
        assert_eq!(body["stream"], true);
        let off = request_body("m", &msgs, &[], ThinkingLevel::Off);
        assert!(off.get("reasoning_effort").is_none() && off.get("tools").is_none());
    }

    #[test]
    fn tool_call_fragments_accumulate_by_index() {
        let mut acc = ToolCallAccumulator::default();
        let c1 = parse_chunk(r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"sessions_list","arguments":"{\"li"}}]}}]}"#).unwrap();
        let c2 = parse_chunk(r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"mit\":2}"}}]}}]}"#).unwrap();
        for c in [c1, c2] {
            for d in &c.choices[0].delta.tool_calls {
                acc.push(d).unwrap();
            }
        }
        assert_eq!(
            acc.finish(),
            vec![ToolCall {
                id: "c1".into(),
                name: "sessions_list".into(),
                arguments: "{\"limit\":2}".into()
            }]
        );
    }

    #[test]
    fn malformed_data_and_provider_errors_are_reported() {
        assert!(parse_chunk("{not json")
            .unwrap_err()
            .contains("malformed SSE data"));
        let err = parse_chunk(r#"{"error":{"message":"overloaded"}}"#).unwrap_err();
        assert!(err.contains("overloaded"), "{err}");
    }
}
