//! What the engine hands the agents: the status snapshot for the built-in agent's
//! `status summary`, and (for LLM agents) the read-only operator tools.

use crate::engine::Engine;
use microclaw_agent::openai::ToolProvider;
use microclaw_agent::{AgentDeps, AgentSet, BoxFuture};
use microclaw_core::Config;
use microclaw_metrics::Metrics;
use serde_json::{json, Value};
use std::sync::{Arc, Weak};

/// Builds the agent set from config. The engine is reached through a weak handle because the
/// agents are created while the engine itself is being built.
pub fn build_agent_set(config: &Config, engine: Weak<Engine>, metrics: Arc<Metrics>) -> AgentSet {
    let status_engine = engine.clone();
    let status = Arc::new(move || match status_engine.upgrade() {
        Some(e) => {
            crate::ops::status::status(&e).unwrap_or_else(|err| json!({"error": err.message}))
        }
        None => json!({"error": "engine is shutting down"}),
    });
    let deps = AgentDeps {
        status: status.clone(),
        tools: Some(Arc::new(OperatorTools { engine })),
        metrics: Some(metrics),
    };
    match AgentSet::from_config(&config.agents, deps) {
        Ok(set) => set,
        Err(e) => {
            // Config validation already checked the agents; keep the console usable regardless.
            tracing::error!("agents config rejected ({e}); only the built-in agent is available");
            AgentSet::builtin_only(status)
        }
    }
}

/// The built-in read-only operator tools offered to LLM agents.
pub struct OperatorTools {
    engine: Weak<Engine>,
}

impl OperatorTools {
    fn call_tool(&self, name: &str, args: &Value) -> Result<Value, String> {
        let engine = self.engine.upgrade().ok_or("engine is shutting down")?;
        let e = &*engine;
        let str_arg = |k: &str| args.get(k).and_then(Value::as_str).map(str::to_string);
        let num_arg = |k: &str| args.get(k).and_then(Value::as_u64);
        match name {
            "sessions_list" => {
                let page = crate::ops::sessions::list(
                    e,
                    crate::ops::sessions::ListParams {
                        limit: Some(num_arg("limit").unwrap_or(20).min(100) as u32),
                        offset: None,
                        search: str_arg("search"),
                    },
                )
                .map_err(|err| err.message)?;
                Ok(json!({"sessions": page.sessions, "total": page.total}))
            }
            "session_history" => {
                let key = str_arg("session_key").or_else(|| str_arg("sessionKey"));
                let limit = Some(num_arg("limit").unwrap_or(20).min(100) as u32);
                let page = crate::ops::sessions::history(e, key.as_deref(), limit, None).map_err(|err| err.message)?;
                let msgs: Vec<Value> = page.messages.iter().map(|m| json!({"role": m.role, "text": m.text})).collect();
                Ok(json!({"session_key": page.key, "messages": msgs}))
            }
            "metrics_summary" => Ok(e.metrics_engine().summary()),
            "self_check" => serde_json::to_value(crate::self_check::run(e).map_err(|err| err.message)?)
                .map_err(|err| err.to_string()),
            other => Err(format!(
                "unknown tool '{other}': expected one of sessions_list, session_history, metrics_summary, self_check"
            )),
        }
    }
}

impl ToolProvider for OperatorTools {
    fn call(&self, name: &str, args: Value) -> BoxFuture<'static, Result<Value, String>> {
        // The tools are quick reads of the store and the metrics engine.
        let result = self.call_tool(name, &args);
        Box::pin(async move { result })
    }
}
