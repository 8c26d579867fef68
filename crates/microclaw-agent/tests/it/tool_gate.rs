//! The gate before a tool call (`ToolProvider::authorize`, where the engine waits for an
//! operator's approval): it gets the run's context, it is not under the tool timeout, and a
//! refusal reaches the model instead of the call.

use crate::common::*;
use crate::openai_backend::backend;
use crate::provider::{self, delta, finish, sse, tool_call_fragment, Ending};
use microclaw_agent::openai::{builtin_tool_specs, ToolCallCtx, ToolProvider, ToolSpec};
use microclaw_agent::{AgentDeps, AgentSet, BoxFuture, ChatState, StartRun};
use microclaw_core::config::AgentsConfig;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

struct GateTools {
    allow: bool,
    entered: mpsc::UnboundedSender<ToolCallCtx>,
    release: Arc<Notify>,
    ran: Mutex<Vec<String>>,
}

impl ToolProvider for GateTools {
    fn specs_for(&self, agent_id: &str) -> Vec<ToolSpec> {
        let mut specs = builtin_tool_specs();
        if agent_id == "gpt" {
            specs.push(ToolSpec {
                name: "gated_tool".into(),
                description: "acts".into(),
                parameters: json!({"type": "object", "properties": {}}),
            });
        }
        specs
    }
    fn call(&self, name: &str, _args: Value) -> BoxFuture<'static, Result<Value, String>> {
        let name = name.to_string();
        Box::pin(async move { Err(format!("{name} needs its run context")) })
    }
    fn call_in(
        &self,
        ctx: &ToolCallCtx,
        name: &str,
        _args: Value,
    ) -> BoxFuture<'static, Result<Value, String>> {
        self.ran.lock().push(name.to_string());
        let run = ctx.run_id.clone();
        Box::pin(async move { Ok(json!({"ran": true, "run": run})) })
    }
    fn authorize(
        &self,
        ctx: &ToolCallCtx,
        _name: &str,
        _args: &Value,
    ) -> BoxFuture<'static, Result<(), String>> {
        let _ = self.entered.send(ctx.clone());
        let (release, allow) = (self.release.clone(), self.allow);
        Box::pin(async move {
            release.notified().await;
            if allow {
                Ok(())
            } else {
                Err("denied by operator".into())
            }
        })
    }
}

async fn run_through_gate(allow: bool) -> (String, Vec<String>, ChatState, ToolCallCtx) {
    let p = provider::spawn(provider::handler(|body, n| {
        let events = if n == 0 {
            vec![
                tool_call_fragment(Some("c1"), Some("gated_tool"), "{}"),
                finish(),
            ]
        } else {
            let last = body["messages"].as_array().unwrap().last().unwrap().clone();
            vec![
                delta(&format!("saw {}", last["content"].as_str().unwrap())),
                finish(),
            ]
        };
        sse(events, Duration::from_millis(1), Ending::Done, None)
    }))
    .await;
    let (tx, mut entered) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let tools = Arc::new(GateTools {
        allow,
        entered: tx,
        release: release.clone(),
        ran: Mutex::new(Vec::new()),
    });
    let mut cfg = backend(&p, None);
    cfg.tool_timeout_ms = 50;
    let t = tools.clone();
    let f = fixture_with(sessions_cfg(4, 60), move |_, metrics| {
        let agents = AgentsConfig {
            default: "gpt".into(),
            backends: BTreeMap::from([("gpt".to_string(), cfg)]),
        };
        let deps = AgentDeps {
            status: status_provider(),
            tools: Some(t as Arc<dyn ToolProvider>),
            metrics: Some(metrics.clone()),
        };
        AgentSet::from_config(&agents, deps).unwrap()
    });
    let mut rx = f.registry.subscribe();
    let started = f
        .registry
        .start(StartRun {
            session_key: "gate".into(),
            message: "act".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let run_id = started.run_id.clone();
    drop(started);
    let ctx = tokio::time::timeout(WAIT, entered.recv())
        .await
        .unwrap()
        .unwrap();
    // Longer than the 50 ms tool timeout: the gate is not under it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    release.notify_one();
    let events = collect_run(&mut rx, &run_id).await;
    let last = events.last().unwrap();
    let ran = tools.ran.lock().clone();
    (last.text_str().to_string(), ran, last.state, ctx)
}

#[tokio::test]
async fn the_gate_gets_the_run_context_and_is_not_under_the_tool_timeout() {
    let (text, ran, state, ctx) = run_through_gate(true).await;
    assert_eq!(state, ChatState::Final, "{text}");
    assert_eq!(
        (
            ctx.session_key.as_str(),
            ctx.agent_id.as_str(),
            ctx.tool_call_id.as_str()
        ),
        ("gate", "gpt", "c1")
    );
    assert!(!ctx.run_id.is_empty());
    assert_eq!(ran, ["gated_tool"]);
    assert!(
        text.contains("\"ran\":true") && text.contains(&ctx.run_id),
        "{text}"
    );
    assert!(!text.contains("timed out"), "{text}");
}

#[tokio::test]
async fn a_refusal_reaches_the_model_and_the_tool_never_runs() {
    let (text, ran, state, _) = run_through_gate(false).await;
    assert_eq!(state, ChatState::Final);
    assert!(ran.is_empty(), "{ran:?}");
    assert!(text.contains("denied by operator"), "{text}");
}
