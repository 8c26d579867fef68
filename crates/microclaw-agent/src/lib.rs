//! Agents and runs: the agent trait, the built-in operator agent, the OpenAI-compatible agent,
//! the run registry.
//!
//! - [`Agent`]: streams a reply as text chunks; object-safe (`Arc<dyn Agent>`).
//! - [`AgentSet`]: the configured agents (`builtin` always present) for `agents.list` /
//!   `models.list` and for resolving a run's agent.
//! - [`BuiltinAgent`]: the no-network operator agent (`status summary`, `/help`, `/echo`,
//!   `/slow`, `/fail`).
//! - [`openai::OpenAiAgent`]: an OpenAI-compatible chat-completions backend with tools.
//! - [`RunRegistry`]: starts runs (one active per session, the rest queued), broadcasts
//!   coalesced [`ChatEvent`]s, aborts/kills/discards/pauses, waits, shuts down; persists
//!   messages and run rows (never into a deleted or reset session) and records run metrics;
//!   emits each run's OpenClaw `agent` events ([`AgentEvent`]) to one sink and keeps
//!   finished-run snapshots ~10 minutes for `agent.wait`.

pub mod agent;
pub mod agent_set;
pub mod budget_guard;
pub mod builtin;
mod chunk_stream;
mod delta_coalescer;
pub mod openai;
pub mod run_agent_events;
mod run_lookup;
mod run_meter;
pub mod run_registry;
mod run_snapshots;
mod run_start;
mod run_state;
mod run_task;
pub mod run_types;
mod run_unstarted;
pub mod status_text;

pub use agent::{estimate_tokens, Agent, AgentRequest, AgentUsage, BoxFuture};
pub use agent_set::{AgentDeps, AgentInfo, AgentSet, ModelInfo};
pub use budget_guard::{
    BudgetGuard, BudgetStop, LiveUsage, MeterStart, RunMeter, RunUsage, Settled,
};
pub use builtin::{BuiltinAgent, StatusProvider, BUILTIN_ID};
pub use chunk_stream::split_chunks;
pub use delta_coalescer::{DELTA_INTERVAL, MAX_DELTA_BYTES};
pub use openai::{OpenAiAgent, ToolProvider, ToolSpec};
pub use run_agent_events::{AgentEvent, AgentEventData, AgentEventSink, ToolEvent, ToolEvents};
pub use run_registry::{RunRegistry, SessionsSink};
pub use run_snapshots::{SNAPSHOT_MAX_RUNS, SNAPSHOT_TTL_MS};
pub use run_task::RELEASE_TIMEOUT;
pub use run_types::{
    ActiveRun, ChatEvent, ChatState, QueueMode, RunLookup, RunOptions, RunOutcome, StartOutcome,
    StartRun, StartStatus, StopReason, CUMULATIVE_TEXT_MAX,
};
