//! Every operation of the console, written once. HTTP routes and bridge methods call these.
//! Scope checks belong to the transports (one table each); the functions here validate their
//! inputs and return `microclaw_core::Error` with a message naming what was wrong.

pub mod agent_run;
pub mod agent_tools;
pub mod agents;
pub mod alerts;
pub mod approvals;
pub mod auth;
pub mod budgets;
pub mod chat;
pub mod config;
pub mod config_versions;
pub mod cron;
pub mod devices;
pub mod fleet;
pub mod freeze;
pub mod incident_export;
pub mod incidents;
pub mod logs;
pub mod presence;
pub mod read_cache;
pub mod session_control;
pub mod session_export;
pub mod sessions;
pub mod slo_defs;
pub mod status;
pub mod status_cache;
pub mod usage;
