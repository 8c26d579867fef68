//! The configured agents: id → `Arc<dyn Agent>` plus the default id.

use crate::agent::Agent;
use crate::builtin::{BuiltinAgent, StatusProvider, BUILTIN_ID};
use crate::openai::{OpenAiAgent, ToolProvider};
use microclaw_core::config::AgentsConfig;
use microclaw_core::{Error, Result};
use microclaw_metrics::Metrics;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// One row of `agents.list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentInfo {
    pub id: String,
    pub name: String,
    pub model: String,
    pub status: String,
}

/// One row of `models.list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelInfo {
    pub id: String,
    pub name: String,
    pub provider: String,
}

/// What the engine hands in so agents can answer about the running system.
#[derive(Clone)]
pub struct AgentDeps {
    /// Status snapshot for the built-in agent's `status summary`.
    pub status: StatusProvider,
    /// Read-only tools offered to LLM agents; `None` = no tools.
    pub tools: Option<Arc<dyn ToolProvider>>,
    /// Where LLM agents record their tool calls.
    pub metrics: Option<Arc<Metrics>>,
}

/// id → agent, with a default. `builtin` is always present.
#[derive(Clone)]
pub struct AgentSet {
    agents: BTreeMap<String, Arc<dyn Agent>>,
    default_id: String,
}

impl fmt::Debug for AgentSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentSet")
            .field("agents", &self.agents.keys().collect::<Vec<_>>())
            .field("default_id", &self.default_id)
            .finish()
    }
}

impl AgentSet {
    /// Only the built-in agent, which is the default.
    pub fn builtin_only(status: StatusProvider) -> AgentSet {
        let mut agents: BTreeMap<String, Arc<dyn Agent>> = BTreeMap::new();
        agents.insert(BUILTIN_ID.to_string(), Arc::new(BuiltinAgent::new(status)));
        AgentSet {
            agents,
            default_id: BUILTIN_ID.to_string(),
        }
    }

    /// The built-in agent plus one OpenAI-compatible agent per `[agents.<id>]` table.
    /// `default` must name `builtin` or a configured table.
    pub fn from_config(cfg: &AgentsConfig, deps: AgentDeps) -> Result<AgentSet> {
        let mut set = AgentSet::builtin_only(deps.status.clone());
        for (id, backend) in &cfg.backends {
            if id == BUILTIN_ID {
                return Err(Error::invalid(
                    "config [agents.builtin] is reserved for the built-in agent: pick another name",
                ));
            }
            if backend.kind != "openai" {
                return Err(Error::invalid(format!(
                    "config agents.{id}.kind = '{}': expected \"openai\"",
                    backend.kind
                )));
            }
            let agent = OpenAiAgent::new(id, backend, deps.tools.clone(), deps.metrics.clone())?;
            set.insert(Arc::new(agent));
        }
        let default = if cfg.default.trim().is_empty() {
            BUILTIN_ID
        } else {
            cfg.default.trim()
        };
        set.set_default(default)?;
        Ok(set)
    }

    /// Adds (or replaces) an agent under its own id.
    pub fn insert(&mut self, agent: Arc<dyn Agent>) {
        self.agents.insert(agent.id().to_string(), agent);
    }

    /// Makes `id` the default; it must already be in the set.
    pub fn set_default(&mut self, id: &str) -> Result<()> {
        if !self.agents.contains_key(id) {
            return Err(self.unknown(id));
        }
        self.default_id = id.to_string();
        Ok(())
    }

    pub fn default_id(&self) -> &str {
        &self.default_id
    }

    pub fn get(&self, id: &str) -> Option<Arc<dyn Agent>> {
        self.agents.get(id).cloned()
    }

    /// The agent for an id or a model name (`sessions.spawn` passes `model`); `None` or blank =
    /// the default agent. Unknown → INVALID_REQUEST listing the known ids.
    pub fn resolve(&self, id_or_model: Option<&str>) -> Result<Arc<dyn Agent>> {
        let wanted = id_or_model.map(str::trim).filter(|s| !s.is_empty());
        let Some(wanted) = wanted else {
            return self
                .get(&self.default_id)
                .ok_or_else(|| self.unknown(&self.default_id));
        };
        if let Some(a) = self.get(wanted) {
            return Ok(a);
        }
        self.agents
            .values()
            .find(|a| a.model() == wanted)
            .cloned()
            .ok_or_else(|| self.unknown(wanted))
    }

    /// `agents.list` rows, default first.
    pub fn list(&self) -> Vec<AgentInfo> {
        let mut rows: Vec<AgentInfo> = self
            .agents
            .values()
            .map(|a| AgentInfo {
                id: a.id().to_string(),
                name: a.name().to_string(),
                model: a.model().to_string(),
                status: a.status(),
            })
            .collect();
        rows.sort_by_key(|r| r.id != self.default_id);
        rows
    }

    /// `models.list` rows (one per distinct model).
    pub fn models(&self) -> Vec<ModelInfo> {
        let mut rows: Vec<ModelInfo> = Vec::new();
        for a in self.agents.values() {
            if rows.iter().any(|r| r.id == a.model()) {
                continue;
            }
            rows.push(ModelInfo {
                id: a.model().to_string(),
                name: a.name().to_string(),
                provider: a.provider().to_string(),
            });
        }
        rows
    }

    pub fn ids(&self) -> Vec<String> {
        self.agents.keys().cloned().collect()
    }

    fn unknown(&self, id: &str) -> Error {
        Error::invalid(format!(
            "unknown agent or model '{id}': expected one of [{}]",
            self.agents.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    }
}
