//! SQLite session store: migrations, one module per table, WAL, a writer and a read pool.
//!
//! `Store::open(path, sync)` creates and migrates the database; every method commits before it
//! returns. Errors are `microclaw_core::Error`: UNAVAILABLE when the database is busy or the
//! store is closed, INTERNAL_ERROR (saying what failed) for other SQLite failures.

mod async_facade;
mod migrations;
mod sql_error;
mod store;

pub mod alert_transitions;
pub mod api_keys;
pub mod approvals;
pub mod audit_log;
pub mod config_versions;
pub mod devices;
pub mod gateways;
pub mod incidents;
pub mod login_sessions;
pub mod message_search;
pub mod messages;
pub mod metrics_history;
pub mod runs;
pub mod scheduler_jobs;
pub mod session_export;
pub mod session_fork;
pub mod sessions;
pub mod settings;
pub mod usage;

pub use api_keys::ApiKeyRow;
pub use approvals::{ApprovalNew, ApprovalRow, ResolveOutcome};
pub use async_facade::WRITE_QUEUE_DEPTH;
pub use audit_log::{audit_entry_hash, AuditRow, GENESIS_HASH};
pub use devices::DeviceRow;
pub use login_sessions::LoginSessionRow;
pub use messages::{MessageRow, MESSAGE_ROLES, STOP_REASONS};
pub use migrations::SCHEMA_VERSION;
pub use runs::{RunBegin, RunBegun, RunEnd, RunReply, RunRow, RUN_END_STATES};
pub use session_fork::TreeNode;
pub use sessions::{ListQuery, SessionPatch, SessionRow, PREVIEW_CHARS};
pub use store::{Store, BUSY_TIMEOUT, READ_POOL_SIZE};
pub use usage::{UsageDailyRow, UsageRecord, UsageTotals};
