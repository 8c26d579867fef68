//! The layered config: defaults -> file -> environment (`MICROCLAW_<SECTION>__<KEY>`).

mod fleet;
mod layers;
mod sections;
mod validate;

pub use fleet::FleetConfig;
pub use layers::{load, load_from_str, DEFAULT_CONFIG_TOML};
pub use sections::*;
