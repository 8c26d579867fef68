//! The console's operations, transport-free: the `Engine` (store + metrics + runs + auth),
//! credentials, the audit trail and the config self-check. The gateway's HTTP routes and
//! bridge methods are thin adapters over the functions in [`ops`].

pub mod approvals;
pub mod audit;
pub mod auth;
pub mod budgets;
pub mod compat;
mod engine;
pub mod events;
pub mod fleet;
pub mod log_ring;
pub mod mem_release;
pub mod ops;
pub mod presence;
pub mod principal;
pub mod scheduler;
pub mod self_check;
pub mod tools;

pub use engine::{Engine, EngineOptions, CONFIG_FILE_NAME, DB_FILE_NAME};
pub use events::EngineEvent;
pub use presence::{Presence, PresenceEntry};
pub use principal::{Principal, PrincipalKind};

pub use microclaw_core as core;
pub use microclaw_core::{Error, ErrorCode, Result};
