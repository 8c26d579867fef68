//! `[budgets]` (token and USD caps, runaway guards; `agents.<id>` overrides) and `[pricing]`
//! (USD per million tokens by model). See docs/usage-budgets.md.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One set of caps; `None` = no cap. The same keys apply globally and per agent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetCaps {
    /// Tokens (input + output) one run may use.
    pub per_run_tokens: Option<u64>,
    /// Tokens one session may use over its life (never resets).
    pub per_session_tokens: Option<u64>,
    /// Tokens per day (the day of `budgets.timezone`).
    pub daily_tokens: Option<u64>,
    /// USD per day (runs of models with a price only).
    pub daily_usd: Option<f64>,
    /// Runaway guard: tool calls one run may make.
    pub max_tool_calls_per_run: Option<u64>,
    /// Runaway guard: tokens one run may use within any 60 s of the engine clock.
    pub max_tokens_per_minute: Option<u64>,
}

/// The key names of [`BudgetCaps`], in display order.
pub const BUDGET_CAP_KEYS: &[&str] = &[
    "per_run_tokens",
    "per_session_tokens",
    "daily_tokens",
    "daily_usd",
    "max_tool_calls_per_run",
    "max_tokens_per_minute",
];

impl BudgetCaps {
    /// The cap named `key` as a number (`None` when unset or unknown).
    pub fn get(&self, key: &str) -> Option<f64> {
        match key {
            "per_run_tokens" => self.per_run_tokens.map(|v| v as f64),
            "per_session_tokens" => self.per_session_tokens.map(|v| v as f64),
            "daily_tokens" => self.daily_tokens.map(|v| v as f64),
            "daily_usd" => self.daily_usd,
            "max_tool_calls_per_run" => self.max_tool_calls_per_run.map(|v| v as f64),
            "max_tokens_per_minute" => self.max_tokens_per_minute.map(|v| v as f64),
            _ => None,
        }
    }

    /// True when no cap is set.
    pub fn is_empty(&self) -> bool {
        BUDGET_CAP_KEYS.iter().all(|k| self.get(k).is_none())
    }

    /// Range checks: `what` names the table in the message (`budgets`, `budgets.agents.x`).
    pub fn validate(&self, what: &str) -> Result<(), crate::Error> {
        if let Some(v) = self.daily_usd {
            if !v.is_finite() || v < 0.0 {
                return Err(crate::Error::invalid(format!(
                    "{what}.daily_usd = {v} is not allowed: expected a number >= 0"
                )));
            }
        }
        Ok(())
    }
}

/// `[budgets]`: the global caps (flat keys), the day boundary and per-agent caps.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetsConfig {
    pub per_run_tokens: Option<u64>,
    pub per_session_tokens: Option<u64>,
    pub daily_tokens: Option<u64>,
    pub daily_usd: Option<f64>,
    pub max_tool_calls_per_run: Option<u64>,
    pub max_tokens_per_minute: Option<u64>,
    /// IANA zone whose midnight starts a new daily window (default `UTC`).
    pub timezone: String,
    /// Share of a cap at which `budget.warning` fires (default 0.8).
    pub warn_ratio: f64,
    /// Caps for one agent, on top of the global ones.
    pub agents: BTreeMap<String, BudgetCaps>,
}

impl Default for BudgetsConfig {
    fn default() -> Self {
        BudgetsConfig {
            per_run_tokens: None,
            per_session_tokens: None,
            daily_tokens: None,
            daily_usd: None,
            max_tool_calls_per_run: None,
            max_tokens_per_minute: None,
            timezone: "UTC".into(),
            warn_ratio: 0.8,
            agents: BTreeMap::new(),
        }
    }
}

impl BudgetsConfig {
    /// The global caps.
    pub fn caps(&self) -> BudgetCaps {
        BudgetCaps {
            per_run_tokens: self.per_run_tokens,
            per_session_tokens: self.per_session_tokens,
            daily_tokens: self.daily_tokens,
            daily_usd: self.daily_usd,
            max_tool_calls_per_run: self.max_tool_calls_per_run,
            max_tokens_per_minute: self.max_tokens_per_minute,
        }
    }

    /// Replaces the global caps.
    pub fn set_caps(&mut self, c: BudgetCaps) {
        self.per_run_tokens = c.per_run_tokens;
        self.per_session_tokens = c.per_session_tokens;
        self.daily_tokens = c.daily_tokens;
        self.daily_usd = c.daily_usd;
        self.max_tool_calls_per_run = c.max_tool_calls_per_run;
        self.max_tokens_per_minute = c.max_tokens_per_minute;
    }

    pub fn validate(&self) -> Result<(), crate::Error> {
        self.caps().validate("config budgets")?;
        for (id, caps) in &self.agents {
            caps.validate(&format!("config budgets.agents.{id}"))?;
        }
        if !(self.warn_ratio > 0.0 && self.warn_ratio <= 1.0) {
            return Err(crate::Error::invalid(format!(
                "config budgets.warn_ratio = {} is out of range: expected a number in (0, 1]",
                self.warn_ratio
            )));
        }
        if self.timezone.trim().is_empty() {
            return Err(crate::Error::invalid(
                "config budgets.timezone is empty: expected an IANA time zone such as UTC or Europe/Berlin",
            ));
        }
        Ok(())
    }
}

/// `[pricing."<model>"]`: USD per million input and output tokens.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ModelPrice {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

impl ModelPrice {
    /// USD for these token counts.
    pub fn cost(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        (input_tokens as f64 * self.input_per_mtok + output_tokens as f64 * self.output_per_mtok)
            / 1_000_000.0
    }
}

/// Validates every price (finite, >= 0).
pub fn validate_pricing(p: &BTreeMap<String, ModelPrice>) -> Result<(), crate::Error> {
    for (model, price) in p {
        for (k, v) in [
            ("input_per_mtok", price.input_per_mtok),
            ("output_per_mtok", price.output_per_mtok),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(crate::Error::invalid(format!(
                    "config pricing.\"{model}\".{k} = {v} is not allowed: expected a number >= 0"
                )));
            }
        }
    }
    Ok(())
}
