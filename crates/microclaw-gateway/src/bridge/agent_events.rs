//! `agent` event payloads (openclaw-methods.md §1.4) from the registry's [`AgentEvent`]s, the
//! same for protocols 3 and 4: `{runId, seq (per run from 1), ts, stream, data, sessionKey,
//! sessionId?, agentId}`. Texts are cut to fit `maxPayload` like chat events.

use super::chat_events::{cut_to_fit, PAYLOAD_HEADROOM};
use super::outbound_queue::Delivery;
use microclaw_agent::{AgentEvent, AgentEventData, ChatState};
use serde_json::{json, Map, Value};

/// The `agent` event payload for `ev`, no larger than `max_payload` once framed.
pub fn agent_payload(ev: &AgentEvent, max_payload: usize) -> Value {
    let budget = max_payload.saturating_sub(PAYLOAD_HEADROOM + 2 * ev.session_key.len());
    let mut obj = Map::with_capacity(8);
    obj.insert("runId".into(), Value::from(ev.run_id.as_str()));
    obj.insert("seq".into(), Value::from(ev.seq));
    obj.insert("ts".into(), Value::from(ev.ts));
    obj.insert("stream".into(), Value::from(ev.data.stream()));
    obj.insert("data".into(), data(&ev.data, budget));
    obj.insert("sessionKey".into(), Value::from(ev.session_key.as_str()));
    if let Some(sid) = &ev.session_id {
        obj.insert("sessionId".into(), Value::from(sid.as_str()));
    }
    if !ev.agent_id.is_empty() {
        obj.insert("agentId".into(), Value::from(ev.agent_id.as_str()));
    }
    Value::Object(obj)
}

/// Assistant events may be dropped for a lagging connection; lifecycle and tool never.
pub fn agent_delivery(ev: &AgentEvent) -> Delivery {
    if ev.data.droppable() {
        Delivery::Droppable
    } else {
        Delivery::Essential
    }
}

/// A JSON value cut to `budget` bytes when its text form is larger (as a string with the marker).
fn fit(v: &Value, budget: usize) -> Value {
    let text = v.to_string();
    if text.len() <= budget {
        return v.clone();
    }
    Value::from(cut_to_fit(&text, budget).into_owned())
}

fn data(d: &AgentEventData, budget: usize) -> Value {
    match d {
        AgentEventData::Start { started_at } => json!({"phase": "start", "startedAt": started_at}),
        AgentEventData::End {
            started_at,
            ended_at,
            state,
            error,
            stop_reason,
        } => {
            let phase = if *state == ChatState::Error {
                "error"
            } else {
                "end"
            };
            let mut m = Map::new();
            m.insert("phase".into(), json!(phase));
            if let Some(s) = started_at {
                m.insert("startedAt".into(), json!(s));
            }
            m.insert("endedAt".into(), json!(ended_at));
            if *state == ChatState::Error {
                if let Some(e) = error {
                    m.insert("error".into(), json!(cut_to_fit(e, budget)));
                }
            }
            if let Some(r) = stop_reason {
                m.insert("stopReason".into(), json!(r.as_str()));
            }
            if *state == ChatState::Aborted {
                m.insert("aborted".into(), json!(true));
            }
            Value::Object(m)
        }
        AgentEventData::Assistant { text, delta } => {
            let half = budget / 2;
            let mut m = Map::new();
            if let Some(t) = text {
                m.insert("text".into(), json!(cut_to_fit(t, half)));
            }
            m.insert("delta".into(), json!(cut_to_fit(delta, half)));
            Value::Object(m)
        }
        AgentEventData::ToolStart {
            name,
            tool_call_id,
            args,
        } => json!({"phase": "start", "name": name, "toolCallId": tool_call_id,
                    "args": fit(args, budget)}),
        AgentEventData::ToolResult {
            name,
            tool_call_id,
            is_error,
            result,
        } => json!({"phase": "result", "name": name, "toolCallId": tool_call_id,
                    "isError": is_error, "result": fit(result, budget)}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use microclaw_agent::StopReason;
    use std::sync::Arc;

    fn ev(seq: u32, data: AgentEventData) -> AgentEvent {
        AgentEvent {
            run_id: "r1".into(),
            session_key: "main".into(),
            session_id: Some("gen-1".into()),
            agent_id: "builtin".into(),
            seq,
            ts: 42,
            data,
        }
    }

    #[test]
    fn lifecycle_and_assistant_payloads_carry_the_openclaw_fields() {
        let p = agent_payload(&ev(1, AgentEventData::Start { started_at: 40 }), 1 << 20);
        assert_eq!(
            p,
            json!({"runId": "r1", "seq": 1, "ts": 42, "stream": "lifecycle",
                   "data": {"phase": "start", "startedAt": 40}, "sessionKey": "main",
                   "sessionId": "gen-1", "agentId": "builtin"})
        );
        let a = AgentEventData::Assistant {
            text: None,
            delta: Arc::from("tail"),
        };
        let p = agent_payload(&ev(2, a), 1 << 20);
        assert_eq!(p["data"], json!({"delta": "tail"}), "no text past 64 KiB");
        let err = AgentEventData::End {
            started_at: Some(40),
            ended_at: 50,
            state: ChatState::Error,
            error: Some("boom".into()),
            stop_reason: Some(StopReason::Error),
        };
        let p = agent_payload(&ev(3, err), 1 << 20);
        assert_eq!(
            p["data"],
            json!({"phase": "error", "startedAt": 40, "endedAt": 50, "error": "boom",
                   "stopReason": "error"})
        );
        let ab = AgentEventData::End {
            started_at: None,
            ended_at: 50,
            state: ChatState::Aborted,
            error: Some("killed".into()),
            stop_reason: Some(StopReason::Aborted),
        };
        let p = agent_payload(&ev(1, ab), 1 << 20);
        assert_eq!(
            p["data"],
            json!({"phase": "end", "endedAt": 50, "stopReason": "aborted", "aborted": true})
        );
    }

    #[test]
    fn tool_results_larger_than_max_payload_are_cut() {
        let big = json!({"rows": "x".repeat(200_000)});
        let r = AgentEventData::ToolResult {
            name: "sessions_list".into(),
            tool_call_id: "c1".into(),
            is_error: false,
            result: big,
        };
        let e = ev(4, r);
        let p = agent_payload(&e, 64 * 1024);
        let framed = json!({"type": "event", "event": "agent", "payload": p, "seq": 9});
        assert!(serde_json::to_string(&framed).unwrap().len() <= 64 * 1024);
        assert!(p["data"]["result"]
            .as_str()
            .unwrap()
            .ends_with("see the session export]"));
        assert_eq!(agent_delivery(&e), Delivery::Essential);
    }
}
