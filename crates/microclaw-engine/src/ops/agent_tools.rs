//! What the engine hands the agents: the status snapshot for the built-in agent's
//! `status summary`, and (for LLM agents) the read-only operator tools plus, where an agent's
//! config lists them, the acting tools behind the approval gate (`crate::approvals`).

use crate::engine::Engine;
use microclaw_agent::openai::{ToolCallCtx, ToolProvider, ToolSpec};
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

impl OperatorTools {
    /// The agent's config table (None for an agent not configured, e.g. in tests).
    fn agent_cfg(
        engine: &Engine,
        agent_id: &str,
    ) -> Option<microclaw_core::config::AgentBackendConfig> {
        engine.config().agents.backends.get(agent_id).cloned()
    }

    fn enabled(engine: &Engine, agent_id: &str, tool: &str) -> bool {
        Self::agent_cfg(engine, agent_id).is_some_and(|c| c.tools.iter().any(|t| t == tool))
    }
}

impl ToolProvider for OperatorTools {
    fn specs_for(&self, agent_id: &str) -> Vec<ToolSpec> {
        let mut specs = microclaw_agent::openai::builtin_tool_specs();
        if let Some(e) = self.engine.upgrade() {
            for t in microclaw_core::config::ACTING_TOOLS {
                if Self::enabled(&e, agent_id, t) {
                    specs.extend(crate::tools::spec(t));
                }
            }
        }
        specs
    }

    fn call(&self, name: &str, args: Value) -> BoxFuture<'static, Result<Value, String>> {
        let engine = self.engine.upgrade();
        let name = name.to_string();
        Box::pin(async move {
            let engine = engine.ok_or("engine is shutting down")?;
            Self::call_tool(engine, name, args).await
        })
    }

    fn call_in(
        &self,
        ctx: &ToolCallCtx,
        name: &str,
        args: Value,
    ) -> BoxFuture<'static, Result<Value, String>> {
        let engine = self.engine.upgrade();
        let (ctx, name) = (ctx.clone(), name.to_string());
        Box::pin(async move {
            let engine = engine.ok_or("engine is shutting down")?;
            let acting = microclaw_core::config::ACTING_TOOLS.contains(&name.as_str());
            let out = if !acting {
                Self::call_tool(engine.clone(), name, args).await
            } else if !Self::enabled(&engine, &ctx.agent_id, &name) {
                Err(format!(
                    "tool '{name}' is not enabled for agent '{}'",
                    ctx.agent_id
                ))
            } else {
                crate::tools::execute(
                    engine.data_dir(),
                    &engine.config().approvals,
                    &ctx.session_key,
                    &name,
                    args,
                    &ctx.cancel,
                )
                .await
            };
            engine.approvals().clear_activity(&ctx.run_id);
            out
        })
    }

    fn authorize(
        &self,
        ctx: &ToolCallCtx,
        name: &str,
        args: &Value,
    ) -> BoxFuture<'static, Result<(), String>> {
        let engine = self.engine.upgrade();
        let (ctx, name, args) = (ctx.clone(), name.to_string(), args.clone());
        Box::pin(async move {
            let engine = engine.ok_or("engine is shutting down")?;
            crate::approvals::gate::enter_tool(&engine, &ctx, &name);
            if !microclaw_core::config::ACTING_TOOLS.contains(&name.as_str()) {
                return Ok(());
            }
            let gated = async {
                let Some(cfg) =
                    Self::agent_cfg(&engine, &ctx.agent_id).filter(|c| c.tools.contains(&name))
                else {
                    return Err(format!(
                        "tool '{name}' is not enabled for agent '{}'",
                        ctx.agent_id
                    ));
                };
                let command = crate::tools::command_text(&name, &args)?;
                if microclaw_core::config::policy_for(&cfg.approval, &name) == "never" {
                    return Ok(());
                }
                let cwd = crate::tools::workspace::path_for(engine.data_dir(), &ctx.session_key);
                crate::approvals::gate::await_approval(
                    &engine,
                    &ctx,
                    &name,
                    &command,
                    &cwd.display().to_string(),
                )
                .await
            };
            let out = gated.await;
            if out.is_err() {
                engine.approvals().clear_activity(&ctx.run_id);
            }
            out
        })
    }

    fn timeout_for(&self, name: &str) -> Option<std::time::Duration> {
        let e = self.engine.upgrade()?;
        (name == "run_command").then(|| {
            // The command's own limit, plus a little for spawning and reading the pipes.
            std::time::Duration::from_millis(e.config().approvals.command_timeout_ms + 2_000)
        })
    }
}
