//! `chat` event payloads (§3) from the run registry's [`ChatEvent`]s.
//!
//! Protocol 3: `seq` from 0; a delta's `message` holds only this (coalesced) chunk; `final`
//! the whole text. Protocol 4: `seq` from 1; a delta always carries `deltaText` (this chunk)
//! and the cumulative `message` only while the reply is at most 64 KiB (the registry leaves
//! `text` out beyond that); `aborted`/`error` carry `stopReason` and `errorMessage`. Only the
//! keys of the closed schema are sent.
//!
//! No event exceeds `maxPayload`: a text that would not fit is cut (at a character boundary)
//! to `maxPayload` minus [`PAYLOAD_HEADROOM`] of JSON, and ends with the marker
//! `…[truncated: N bytes, see the session export]` (N = the bytes left out). The stored reply
//! stays whole.

use super::frames::Proto;
use microclaw_agent::{ChatEvent, ChatState};
use serde_json::{json, Map, Value};
use std::borrow::Cow;

/// Bytes of `maxPayload` kept for the frame around the texts (envelope, keys, ids).
pub const PAYLOAD_HEADROOM: usize = 4096;

fn assistant_message(text: &str) -> Value {
    json!({"role": "assistant", "content": [{"type": "text", "text": text}]})
}

/// The bytes `c` takes inside a JSON string.
fn json_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// `text` unchanged when its JSON form fits in `budget` bytes; else its longest prefix that
/// fits together with the truncation marker.
pub fn cut_to_fit(text: &str, budget: usize) -> Cow<'_, str> {
    // Cheap exit: even fully escaped (6 bytes a byte) it fits.
    if text.len().saturating_mul(6) <= budget {
        return Cow::Borrowed(text);
    }
    let escaped: usize = text.chars().map(json_len).sum();
    if escaped <= budget {
        return Cow::Borrowed(text);
    }
    // The marker's own length, with room for the largest N.
    let marker_room = truncation_marker(text.len()).len();
    let room = budget.saturating_sub(marker_room);
    let mut used = 0;
    let mut cut = 0;
    for (i, c) in text.char_indices() {
        let n = json_len(c);
        if used + n > room {
            break;
        }
        used += n;
        cut = i + c.len_utf8();
    }
    let mut out = String::with_capacity(cut + marker_room);
    out.push_str(&text[..cut]);
    out.push_str(&truncation_marker(text.len() - cut));
    Cow::Owned(out)
}

fn truncation_marker(left_out: usize) -> String {
    format!("…[truncated: {left_out} bytes, see the session export]")
}

/// The `chat` event payload for `ev`, no larger than `max_payload` once framed.
pub fn chat_payload(proto: Proto, ev: &ChatEvent, max_payload: usize) -> Value {
    let budget = max_payload.saturating_sub(PAYLOAD_HEADROOM + 2 * ev.session_key.len());
    let mut obj = Map::with_capacity(9);
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
                    obj.insert(
                        "message".into(),
                        assistant_message(&cut_to_fit(chunk, budget)),
                    );
                }
                Proto::V4 => {
                    let half = budget / 2;
                    obj.insert("deltaText".into(), Value::from(cut_to_fit(chunk, half)));
                    if let Some(text) = ev.text.as_deref() {
                        obj.insert("message".into(), assistant_message(&cut_to_fit(text, half)));
                    }
                }
            }
        }
        ChatState::Final => {
            obj.insert(
                "message".into(),
                assistant_message(&cut_to_fit(ev.text_str(), budget)),
            );
            insert_usage(&mut obj, proto, ev);
        }
        ChatState::Error | ChatState::Aborted => {
            if !ev.text_str().is_empty() {
                obj.insert(
                    "message".into(),
                    assistant_message(&cut_to_fit(ev.text_str(), budget)),
                );
            }
            if let Some(r) = ev.stop_reason {
                obj.insert("stopReason".into(), Value::from(r.as_str()));
            }
            if let Some(e) = &ev.error_message {
                obj.insert("errorMessage".into(), Value::from(e.as_str()));
            }
            insert_usage(&mut obj, proto, ev);
        }
    }
    Value::Object(obj)
}

/// `usage` on terminal events: `final` and `error` on both protocols; `aborted` only on
/// protocol 3 (OpenClaw's closed schema has no `usage` there; decisions.md).
fn insert_usage(obj: &mut Map<String, Value>, proto: Proto, ev: &ChatEvent) {
    let allowed = ev.state != ChatState::Aborted || proto == Proto::V3;
    if let (true, Some(u)) = (allowed, ev.usage) {
        obj.insert(
            "usage".into(),
            serde_json::to_value(u).unwrap_or(Value::Null),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use microclaw_agent::StopReason;
    use std::sync::Arc;

    const MAX: usize = 1 << 20;

    fn ev(
        seq: u32,
        state: ChatState,
        delta: Option<&str>,
        text: Option<&str>,
        err: Option<&str>,
    ) -> ChatEvent {
        ChatEvent {
            run_id: "r1".into(),
            session_key: "main".into(),
            seq,
            state,
            delta: delta.map(Arc::from),
            text: text.map(Arc::from),
            text_len: text.map_or(0, str::len),
            error_message: err.map(str::to_string),
            stop_reason: err.map(|_| StopReason::Error),
            usage: None,
        }
    }

    #[test]
    fn protocol_3_deltas_carry_the_chunk_and_count_from_zero() {
        let p = chat_payload(
            Proto::V3,
            &ev(1, ChatState::Delta, Some("Hel"), Some("Hel"), None),
            MAX,
        );
        assert_eq!(p["seq"], 0);
        assert_eq!(p["message"]["content"][0]["text"], "Hel");
        assert!(
            p.get("deltaText").is_none(),
            "deltaText is a protocol-4 key"
        );
        let p = chat_payload(
            Proto::V3,
            &ev(2, ChatState::Delta, Some("lo"), Some("Hello"), None),
            MAX,
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
    fn protocol_4_deltas_carry_delta_text_and_the_cumulative_message_while_short() {
        let p = chat_payload(
            Proto::V4,
            &ev(2, ChatState::Delta, Some("lo"), Some("Hello"), None),
            MAX,
        );
        assert_eq!(p["seq"], 2);
        assert_eq!(p["deltaText"], "lo");
        assert_eq!(p["message"]["content"][0]["text"], "Hello");
        let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 7, "only schema keys: {keys:?}");
        // Past 64 KiB the registry leaves the cumulative text out: only deltaText.
        let p = chat_payload(
            Proto::V4,
            &ev(9, ChatState::Delta, Some("tail"), None, None),
            MAX,
        );
        assert_eq!(p["deltaText"], "tail");
        assert!(p.get("message").is_none(), "{p}");
    }

    #[test]
    fn terminal_events_carry_the_whole_text_or_the_error_and_stop_reason() {
        let f = chat_payload(
            Proto::V4,
            &ev(3, ChatState::Final, None, Some("Hello"), None),
            MAX,
        );
        assert_eq!(
            (
                f["state"].as_str(),
                f["message"]["content"][0]["text"].as_str()
            ),
            (Some("final"), Some("Hello"))
        );
        assert!(f.get("stopReason").is_none());
        let e = chat_payload(
            Proto::V4,
            &ev(1, ChatState::Error, None, Some(""), Some("boom")),
            MAX,
        );
        assert_eq!(e["errorMessage"], "boom");
        assert_eq!(e["stopReason"], "error");
        assert!(e.get("message").is_none());
    }

    #[test]
    fn a_reply_larger_than_max_payload_is_cut_with_the_marker() {
        let max = 64 * 1024;
        let text = "a\"b".repeat(50_000); // 150 KB, quotes escape to 2 bytes
        let p = chat_payload(
            Proto::V4,
            &ev(5, ChatState::Final, None, Some(&text), None),
            max,
        );
        let framed = json!({"type": "event", "event": "chat", "payload": p, "seq": 5});
        let size = serde_json::to_string(&framed).unwrap().len();
        assert!(size <= max, "framed event is {size} bytes, max {max}");
        let shown = p["message"]["content"][0]["text"].as_str().unwrap();
        let (kept, marker) = shown.split_once('…').unwrap();
        assert!(text.starts_with(kept), "a prefix of the reply is kept");
        assert_eq!(
            marker,
            format!(
                "[truncated: {} bytes, see the session export]",
                text.len() - kept.len()
            )
        );
        // Multi-byte text is cut on a character boundary.
        let accents = "é".repeat(1000);
        let cut = cut_to_fit(&accents, 301);
        assert!(cut.ends_with("see the session export]"), "{cut}");
        assert!(cut.len() <= 301 + 3, "{}", cut.len());
        assert_eq!(cut_to_fit("short", 100), "short");
    }
}
