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
        Some(e) => status_for_operator(&e).unwrap_or_else(|err| json!({"error": err.message})),
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

/// The `status summary` snapshot, shaped for reading: one line per fact.
fn status_for_operator(e: &Engine) -> microclaw_core::Result<Value> {
    let slo = e.metrics_engine().slo_brief();
    let f = |k: &str| slo.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let firing: Vec<String> = slo
        .get("firing")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| {
                    x.get("slo")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    let slo_line = match slo
        .get("state")
        .and_then(Value::as_str)
        .unwrap_or("no_data")
    {
        "no_data" => "ok (no runs measured in the SLO window yet)".to_string(),
        "burning" => format!(
            "BURNING: {} (see GET /api/metrics/summary)",
            firing.join(", ")
        ),
        _ => format!(
            "ok: success rate {:.2}%, p95 latency {:.0} ms",
            f("request_success_rate") * 100.0,
            f("e2e_latency_p95_ms")
        ),
    };
    let otlp = slo.get("otlp").cloned().unwrap_or(Value::Null);
    let otlp_line = if otlp.get("enabled").and_then(Value::as_bool) == Some(true) {
        format!(
            "exported {}, dropped {}, retries {}, last error: {}",
            otlp["exported"],
            otlp["dropped"],
            otlp["retries"],
            otlp.get("last_error")
                .and_then(Value::as_str)
                .unwrap_or("none")
        )
    } else {
        "disabled".to_string()
    };
    let check = crate::self_check::run(e)?;
    let risk = match check.warnings.len() {
        0 => "none".to_string(),
        n => format!(
            "{} ({n} warning{}; see GET /api/config/self_check)",
            check.risk_level,
            if n == 1 { "" } else { "s" }
        ),
    };
    Ok(json!({
        "version": microclaw_core::VERSION,
        "uptimeMs": e.uptime_ms(),
        "sessions": e.session_count(),
        "activeRuns": e.runs().active_runs(),
        "connections": e.presence().count(),
        "slo": slo_line,
        "otlp": otlp_line,
        "riskLevel": risk,
    }))
}

/// The built-in read-only operator tools offered to LLM agents.
pub struct OperatorTools {
    engine: Weak<Engine>,
}

impl OperatorTools {
    async fn call_tool(engine: Arc<Engine>, name: String, args: Value) -> Result<Value, String> {
        let e = &*engine;
        let str_arg = |k: &str| args.get(k).and_then(Value::as_str).map(str::to_string);
        let num_arg = |k: &str| args.get(k).and_then(Value::as_u64);
        match name.as_str() {
            "sessions_list" => {
                let page = crate::ops::sessions::list(
                    e,
                    crate::ops::sessions::ListParams {
                        limit: Some(num_arg("limit").unwrap_or(20).min(100) as u32),
                        offset: None,
                        search: str_arg("search"),
                    },
                )
                .await
                .map_err(|err| err.message)?;
                Ok(json!({"sessions": page.sessions, "total": page.total}))
            }
            "session_history" => {
                let key = str_arg("session_key").or_else(|| str_arg("sessionKey"));
                let limit = Some(num_arg("limit").unwrap_or(20).min(100) as u32);
                let page = crate::ops::sessions::history(e, key.as_deref(), limit, None)
                    .await
                    .map_err(|err| err.message)?;
                let msgs: Vec<Value> = page
                    .messages
                    .iter()
                    .map(|m| json!({"role": m.role, "text": m.text}))
                    .collect();
                Ok(json!({"session_key": page.key, "messages": msgs}))
            }
            "metrics_summary" => e
                .blocking_read(|e| Ok(e.metrics_engine().summary()))
                .await
                .map_err(|err| err.message),
            "self_check" => {
                let check = e
                    .blocking_read(crate::self_check::run)
                    .await
                    .map_err(|err| err.message)?;
                serde_json::to_value(check).map_err(|err| err.to_string())
            }
            other => Err(format!(
                "unknown tool '{other}': expected one of sessions_list, session_history, metrics_summary, self_check"
            )),
        }
    }
}

impl ToolProvider for OperatorTools {
    fn call(&self, name: &str, args: Value) -> BoxFuture<'static, Result<Value, String>> {
        let engine = self.engine.upgrade();
        let name = name.to_string();
        Box::pin(async move {
            let engine = engine.ok_or("engine is shutting down")?;
            Self::call_tool(engine, name, args).await
        })
    }
}
