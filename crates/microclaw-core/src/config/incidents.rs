//! `[incidents]` and `[freeze]`: what a firing page alert does by itself (operations.md §4).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct IncidentsConfig {
    /// A page alert that starts firing opens an incident (or joins the open one of its SLO).
    pub auto_open: bool,
}

impl Default for IncidentsConfig {
    fn default() -> Self {
        IncidentsConfig { auto_open: true }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FreezeConfig {
    /// Non-critical changes freeze by themselves while a page alert fires.
    pub auto_on_burn: bool,
}

impl Default for FreezeConfig {
    fn default() -> Self {
        FreezeConfig { auto_on_burn: true }
    }
}
