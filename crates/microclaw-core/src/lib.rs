//! Domain types shared by every MicroClaw crate: error codes, scopes, session keys,
//! per-session levels, the layered config and the clock. Nothing here does I/O
//! except reading a config file on request.

pub mod atomic_file;
pub mod clock;
pub mod config;
pub mod error;
pub mod levels;
pub mod proxies;
pub mod redact;
pub mod scope;
pub mod session_key;

pub use clock::SharedClock;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use error::{Error, ErrorCode, Result};
pub use levels::{ReasoningLevel, ThinkingLevel, VerboseLevel};
pub use scope::{Scope, ScopeSet};
pub use session_key::normalize_session_key;

/// The product version, reported by `health`, `status` and hello-ok.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
