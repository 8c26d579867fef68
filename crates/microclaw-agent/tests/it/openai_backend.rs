//! The OpenAI-compatible agent through the run registry, against a real local provider.

use crate::common::*;
use crate::provider::{self, delta, finish, sse, tool_call_fragment, usage, Ending, Provider};
use microclaw_agent::openai::ToolProvider;
use microclaw_agent::{AgentDeps, AgentSet, BoxFuture, ChatState, StartRun};
use microclaw_core::config::{AgentBackendConfig, AgentsConfig};
use microclaw_core::ThinkingLevel;
use microclaw_store::SessionPatch;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A tool provider the engine would hand in; this one answers from fixed data and records calls.
#[derive(Default)]
pub struct RecordingTools {
    pub calls: Mutex<Vec<(String, Value)>>,
}

impl ToolProvider for RecordingTools {
    fn call(&self, name: &str, args: Value) -> BoxFuture<'static, Result<Value, String>> {
        self.calls.lock().push((name.to_string(), args));
        let result = match name {
            "sessions_list" => {
                Ok(json!({"sessions": [{"key": "main"}, {"key": "ops"}], "totalCount": 2}))
            }
            "self_check" => Err("self-check database unreachable".to_string()),
            other => Err(format!("unexpected tool {other}")),
        };
        Box::pin(async move { result })
    }
}

pub fn backend(p: &Provider, key_env: Option<&str>) -> AgentBackendConfig {
    AgentBackendConfig {
        base_url: p.base_url.clone(),
        model: "test-model".into(),
        api_key_env: key_env.map(str::to_string),
        request_timeout_ms: 2_000,
        max_retries: 1,
        tool_timeout_ms: 1_000,
        ..Default::default()
    }
}

pub fn openai_fixture(cfg: AgentBackendConfig, tools: Option<Arc<RecordingTools>>) -> Fixture {
    fixture_with(sessions_cfg(4, 60), move |_, metrics| {
        let agents = AgentsConfig {
            default: "gpt".into(),
            backends: BTreeMap::from([("gpt".to_string(), cfg)]),
        };
        let deps = AgentDeps {
            status: status_provider(),
            tools: tools.map(|t| t as Arc<dyn ToolProvider>),
            metrics: Some(metrics.clone()),
        };
        AgentSet::from_config(&agents, deps).unwrap()
    })
}

#[tokio::test]
async fn a_scripted_stream_becomes_ordered_deltas_and_usage_becomes_tokens() {
    let p = provider::spawn(provider::handler(|_, _| {
        let events = vec![
            delta("Hel"),
            delta("lo "),
            delta("world"),
            finish(),
            usage(42, 7),
        ];
        sse(events, Duration::from_millis(5), Ending::Done, None)
    }))
    .await;
    std::env::set_var("MICROCLAW_TEST_KEY_SCRIPTED", "sk-test-123");
    let f = openai_fixture(backend(&p, Some("MICROCLAW_TEST_KEY_SCRIPTED")), None);
    let patch = SessionPatch {
        thinking_level: Some(ThinkingLevel::High),
        ..Default::default()
    };
    f.store.session_patch("chat", &patch, true, 1).unwrap();
    let mut rx = f.registry.subscribe();

    let first = f
        .registry
        .start(StartRun {
            session_key: "chat".into(),
            message: "hi".into(),
            ..Default::default()
        })
        .await;
    let run_id = first.unwrap().run_id.clone();
    let events = collect_run(&mut rx, &run_id).await;
    assert_well_ordered(&events);
    let deltas: Vec<_> = events.iter().filter_map(|e| e.delta.clone()).collect();
    assert_eq!(
        deltas.concat(),
        "Hello world",
        "the provider deltas arrive in order (coalesced within 50 ms)"
    );
    assert!(
        (1..=3).contains(&deltas.len()),
        "three provider deltas make at most three events: {deltas:?}"
    );
    assert_eq!(events.last().unwrap().state, ChatState::Final);
    assert_eq!(
        metric(&f.metrics, "llm_input_tokens"),
        42,
        "provider usage is reported as is"
    );
    assert_eq!(metric(&f.metrics, "llm_output_tokens"), 7);

    let second = f
        .registry
        .start(StartRun {
            session_key: "chat".into(),
            message: "again".into(),
            ..Default::default()
        })
        .await;
    let second = second.unwrap().run_id.clone();
    assert_eq!(
        wait_outcome(&f.registry, &second).await.state,
        ChatState::Final
    );
    let body = p.body(1);
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert_eq!(
        body["reasoning_effort"], "high",
        "thinking level high maps to reasoning_effort"
    );
    let roles: Vec<_> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["system", "user", "assistant", "user"],
        "recent history is sent as context"
    );
    assert_eq!(json_get(&body, "/messages/2/content"), "Hello world");
    assert_eq!(
        p.header(0, "authorization").as_deref(),
        Some("Bearer sk-test-123"),
        "key read from the env"
    );
}

#[tokio::test]
async fn a_tool_call_round_trip_runs_the_tool_shows_it_and_feeds_the_result_back() {
    let p = provider::spawn(provider::handler(|body, _| {
        let has_tool_result = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["role"] == "tool");
        let events = if has_tool_result {
            vec![delta("There are 2 sessions."), finish()]
        } else {
            vec![
                tool_call_fragment(Some("call_a"), Some("sessions_list"), "{\"lim"),
                tool_call_fragment(None, None, "it\": 2}"),
                json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
                    .to_string(),
            ]
        };
        sse(events, Duration::from_millis(2), Ending::Done, None)
    }))
    .await;
    let tools = Arc::new(RecordingTools::default());
    let f = openai_fixture(backend(&p, None), Some(tools.clone()));
    let seen = Arc::new(parking_lot::Mutex::new(
        Vec::<microclaw_agent::AgentEvent>::new(),
    ));
    let sink = seen.clone();
    f.registry
        .set_agent_event_sink(Arc::new(move |ev| sink.lock().push((*ev).clone())));
    let run = f
        .registry
        .start(StartRun {
            message: "how many sessions?".into(),
            ..Default::default()
        })
        .await;
    let run_id = run.unwrap().run_id.clone();
    let out = wait_outcome(&f.registry, &run_id).await;
    assert_eq!(out.state, ChatState::Final, "{:?}", out.error_message);
    // The run's agent stream: lifecycle start, the tool call's start and result, the reply,
    // lifecycle end; numbered from 1.
    let evs = seen.lock().clone();
    let kinds: Vec<String> = evs
        .iter()
        .map(|e| match &e.data {
            microclaw_agent::AgentEventData::ToolStart {
                name,
                tool_call_id,
                args,
            } => {
                format!("tool start {name} {tool_call_id} {args}")
            }
            microclaw_agent::AgentEventData::ToolResult {
                name,
                is_error,
                result,
                ..
            } => {
                format!("tool result {name} {is_error} {}", result.is_object())
            }
            other => other.stream().to_string(),
        })
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("lifecycle"));
    assert_eq!(kinds.last().map(String::as_str), Some("lifecycle"));
    let start = kinds
        .iter()
        .position(|k| k.starts_with("tool start"))
        .unwrap();
    assert_eq!(
        kinds[start], "tool start sessions_list call_a {\"limit\":2}",
        "{kinds:?}"
    );
    assert_eq!(
        kinds[start + 1],
        "tool result sessions_list false true",
        "{kinds:?}"
    );
    assert!(
        kinds[start + 2..].iter().any(|k| k == "assistant"),
        "{kinds:?}"
    );
    let seqs: Vec<u32> = evs.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=evs.len() as u32).collect::<Vec<_>>());
    assert_eq!(
        out.text, "[tool sessions_list ok]\nThere are 2 sessions.",
        "the tool call shows in the transcript"
    );
    assert_eq!(
        *tools.calls.lock(),
        vec![("sessions_list".to_string(), json!({"limit": 2}))]
    );
    let second = p.body(1);
    let tools_offered: Vec<_> = p.body(0)["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].clone())
        .collect();
    assert_eq!(
        tools_offered,
        [
            "sessions_list",
            "session_history",
            "metrics_summary",
            "self_check"
        ]
    );
    let msgs = second["messages"].as_array().unwrap();
    let assistant = &msgs[msgs.len() - 2];
    assert_eq!(assistant["tool_calls"][0]["id"], "call_a");
    let tool_msg = msgs.last().unwrap();
    assert_eq!(
        (tool_msg["role"].as_str(), tool_msg["tool_call_id"].as_str()),
        (Some("tool"), Some("call_a"))
    );
    assert!(
        tool_msg["content"].as_str().unwrap().contains("\"ops\""),
        "the model sees the tool result"
    );
    assert_eq!(
        (
            metric(&f.metrics, "tool_executions"),
            metric(&f.metrics, "tool_success")
        ),
        (1, 1)
    );
}

#[tokio::test]
async fn failing_and_unknown_tools_become_errors_the_model_sees() {
    let p = provider::spawn(provider::handler(|body, _| {
        let events = if body["messages"].as_array().unwrap().iter().any(|m| m["role"] == "tool") {
            vec![delta("noted"), finish()]
        } else {
            let calls = json!([
                {"index": 0, "id": "c1", "type": "function", "function": {"name": "self_check", "arguments": "{}"}},
                {"index": 1, "id": "c2", "type": "function", "function": {"name": "drop_database", "arguments": ""}},
            ]);
            let two = json!({"choices": [{"index": 0, "delta": {"tool_calls": calls}, "finish_reason": null}]});
            vec![two.to_string(), finish()]
        };
        sse(events, Duration::from_millis(2), Ending::Done, None)
    }))
    .await;
    let tools = Arc::new(RecordingTools::default());
    let f = openai_fixture(backend(&p, None), Some(tools.clone()));
    let run = f
        .registry
        .start(StartRun {
            message: "check".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let run_id = run.run_id.clone();
    drop(run);
    let out = wait_outcome(&f.registry, &run_id).await;
    assert_eq!(
        out.state,
        ChatState::Final,
        "tool failures do not fail the run: {:?}",
        out.error_message
    );
    assert!(
        out.text
            .contains("[tool self_check error: self-check database unreachable]"),
        "{}",
        out.text
    );
    assert!(
        out.text
            .contains("[tool drop_database error: tool 'drop_database' is not available"),
        "{}",
        out.text
    );
    assert_eq!(
        tools.calls.lock().len(),
        1,
        "a tool that is not offered is never called"
    );
    let tool_msgs: Vec<String> = p.body(1)["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tool_msgs.len(), 2);
    assert!(
        tool_msgs.iter().all(|c| c.contains("\"error\"")),
        "{tool_msgs:?}"
    );
    assert_eq!(metric(&f.metrics, "tool_error"), 1);
    assert_eq!(metric(&f.metrics, "tool_policy_blocks"), 1);
}

#[tokio::test]
async fn abort_stops_the_http_stream_promptly() {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    let p = provider::spawn(provider::handler(move |_, _| {
        let events = (0..100).map(|i| delta(&format!("tick {i} "))).collect();
        sse(
            events,
            Duration::from_millis(100),
            Ending::Done,
            Some(flag.clone()),
        )
    }))
    .await;
    let f = openai_fixture(backend(&p, None), None);
    let mut rx = f.registry.subscribe();
    let run_id = f
        .registry
        .start(StartRun {
            message: "stream".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .run_id
        .clone();
    let first = tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.state, ChatState::Delta);
    let t0 = Instant::now();
    assert_eq!(f.registry.abort("main", None), vec![run_id.clone()]);
    let events = collect_run(&mut rx, &run_id).await;
    assert_eq!(events.last().unwrap().state, ChatState::Aborted);
    let deadline = Instant::now() + Duration::from_secs(1);
    while !dropped.load(Ordering::SeqCst) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        dropped.load(Ordering::SeqCst),
        "the provider saw the client go away within 1 s"
    );
    assert!(t0.elapsed() < Duration::from_secs(1));
}
