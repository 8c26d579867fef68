//! The layered config: defaults -> file -> environment (`MICROCLAW_<SECTION>__<KEY>`).

mod approvals;
mod budgets;
mod compat;
mod fleet;
mod incidents;
mod layers;
mod sections;
mod validate;

pub use approvals::{policy_for, ApprovalsConfig, ACTING_TOOLS, READ_ONLY_TOOLS};
pub use budgets::{validate_pricing, BudgetCaps, BudgetsConfig, ModelPrice, BUDGET_CAP_KEYS};
pub use compat::CompatConfig;
pub use fleet::FleetConfig;
pub use incidents::{FreezeConfig, IncidentsConfig};
pub use layers::{load, load_from_str, DEFAULT_CONFIG_TOML};
pub use sections::*;
