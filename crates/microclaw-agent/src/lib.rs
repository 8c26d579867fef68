//! Agents and runs: the agent trait, the built-in operator agent, the OpenAI-compatible agent,
//! the run registry.
//!
//! - [`Agent`]: streams a reply as text chunks; object-safe (`Arc<dyn Agent>`).
//! - [`AgentSet`]: the configured agents (`builtin` always present) for `agents.list` /
//!   `models.list` and for resolving a run's agent.
//! - [`BuiltinAgent`]: the no-network operator agent (`status summary`, `/help`, `/echo`,
//!   `/slow`, `/fail`).
//! - [`openai::OpenAiAgent`]: an OpenAI-compatible chat-completions backend with tools.
//! - [`RunRegistry`]: starts runs, broadcasts [`ChatEvent`]s, aborts/kills/pauses, waits,
//!   shuts down; persists messages and run rows and records run metrics.

pub mod agent;
pub mod agent_set;
pub mod builtin;
mod chunk_stream;
pub mod openai;
pub mod run_registry;
mod run_state;
mod run_task;
pub mod run_types;
pub mod status_text;

pub use agent::{estimate_tokens, Agent, AgentRequest, AgentUsage, BoxFuture};
pub use agent_set::{AgentDeps, AgentInfo, AgentSet, ModelInfo};
pub use builtin::{BuiltinAgent, StatusProvider, BUILTIN_ID};
pub use chunk_stream::split_chunks;
pub use openai::{OpenAiAgent, ToolProvider, ToolSpec};
pub use run_registry::RunRegistry;
pub use run_task::RELEASE_TIMEOUT;
pub use run_types::{ActiveRun, ChatEvent, ChatState, RunOutcome, StartOutcome, StartRun};
