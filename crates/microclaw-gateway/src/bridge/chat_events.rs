//! `chat` event payloads (§3) from the run registry's [`ChatEvent`]s.
//!
//! Protocol 3: `seq` from 0; a delta's `message` holds only this chunk; `final` the whole text.
//! Protocol 4: `seq` from 1; a delta carries `deltaText` (this chunk) and the cumulative
//! `message`; `error` carries `errorMessage`. Only the keys of the closed schema are sent.

use super::frames::Proto;
use microclaw_agent::{ChatEvent, ChatState};
use serde_json::{json, Map, Value};

fn assistant_message(text: &str) -> Value {
    json!({"role": "assistant", "content": [{"type": "text", "text": text}]})
}

pub fn chat_payload(proto: Proto, ev: &ChatEvent) -> Value {
    let mut obj = Map::with_capacity(8);
    obj.insert("runId".into(), Value::from(ev.run_id.as_str()));
    obj.insert("sessionKey".into(), Value::from(ev.session_key.as_str()));
    obj.insert("key".into(), Value::from(ev.session_key.as_str()));
    let seq = match proto {
        Proto::V3 => ev.seq.saturating_sub(1),
        Proto::V4 => ev.seq,
    };
    obj.insert("seq".into(), Value::from(seq));
    obj.insert("state".into(), Value::from(ev.state.as_str()));
    match ev.state {
        ChatState::Delta => {
            let chunk = ev.delta.as_deref().unwrap_or("");
            match proto {
                Proto::V3 => {
                    obj.insert("message".into(), assistant_message(chunk));
                }
                Proto::V4 => {
                    obj.insert("deltaText".into(), Value::from(chunk));
                    obj.insert("message".into(), assistant_message(&ev.text));
                }
            }
        }
        ChatState::Final => {
            obj.insert("message".into(), assistant_message(&ev.text));
        }
        ChatState::Error | ChatState::Aborted => {
            if !ev.text.is_empty() {
                obj.insert("message".into(), assistant_message(&ev.text));
            }
            if let Some(e) = &ev.error_message {
                obj.insert("errorMessage".into(), Value::from(e.as_str()));
            }
        }
    }
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(
        seq: u32,
        state: ChatState,
        delta: Option<&str>,
        text: &str,
        err: Option<&str>,
    ) -> ChatEvent {
        ChatEvent {
            run_id: "r1".into(),
            session_key: "main".into(),
            seq,
            state,
            delta: delta.map(str::to_string),
            text: text.into(),
            error_message: err.map(str::to_string),
        }
    }

    #[test]
    fn protocol_3_deltas_carry_the_chunk_and_count_from_zero() {
        let p = chat_payload(
            Proto::V3,
            &ev(1, ChatState::Delta, Some("Hel"), "Hel", None),
        );
        assert_eq!(p["seq"], 0);
        assert_eq!(p["message"]["content"][0]["text"], "Hel");
        assert!(
            p.get("deltaText").is_none(),
            "deltaText is a protocol-4 key"
        );
        let p = chat_payload(
            Proto::V3,
            &ev(2, ChatState::Delta, Some("lo"), "Hello", None),
        );
        assert_eq!(
            (
                p["seq"].as_u64(),
                p["message"]["content"][0]["text"].as_str()
            ),
            (Some(1), Some("lo"))
        );
    }

    #[test]
    fn protocol_4_deltas_carry_delta_text_and_the_cumulative_message() {
        let p = chat_payload(
            Proto::V4,
            &ev(2, ChatState::Delta, Some("lo"), "Hello", None),
        );
        assert_eq!(p["seq"], 2);
        assert_eq!(p["deltaText"], "lo");
        assert_eq!(p["message"]["content"][0]["text"], "Hello");
        let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 7, "only schema keys: {keys:?}");
    }

    #[test]
    fn terminal_events_carry_the_whole_text_or_the_error() {
        let f = chat_payload(Proto::V4, &ev(3, ChatState::Final, None, "Hello", None));
        assert_eq!(
            (
                f["state"].as_str(),
                f["message"]["content"][0]["text"].as_str()
            ),
            (Some("final"), Some("Hello"))
        );
        let e = chat_payload(Proto::V3, &ev(1, ChatState::Error, None, "", Some("boom")));
        assert_eq!(e["errorMessage"], "boom");
        assert!(e.get("message").is_none());
    }
}
