//! Which caps apply to a run and how much of each is used: the global caps and the run's
//! agent's caps, each measured against the right total.

use microclaw_core::config::BudgetCaps;
use microclaw_store::UsageTotals;

/// One cap and its use.
#[derive(Debug, Clone, PartialEq)]
pub struct CapUse {
    pub cap: &'static str,
    /// `Some(agent)` for a cap of `budgets.agents.<agent>`.
    pub agent_id: Option<String>,
    pub limit: f64,
    pub used: f64,
    /// Daily caps: when the window resets (epoch ms); per-run/per-session caps never reset.
    pub resets_at_ms: Option<i64>,
    /// A runaway guard (tool calls, tokens per minute) rather than a budget.
    pub runaway: bool,
}

impl CapUse {
    /// `budgets.daily_tokens` or `budgets.agents.<id>.daily_tokens`.
    pub fn name(&self) -> String {
        match &self.agent_id {
            Some(a) => format!("budgets.agents.{a}.{}", self.cap),
            None => format!("budgets.{}", self.cap),
        }
    }

    pub fn scope(&self) -> &'static str {
        if self.agent_id.is_some() {
            "agent"
        } else {
            "global"
        }
    }

    /// The limit as written (integers without a fraction).
    pub fn limit_text(&self) -> String {
        num(self.limit, self.cap == "daily_usd")
    }

    pub fn used_text(&self) -> String {
        num(self.used, self.cap == "daily_usd")
    }

    pub fn unit(&self) -> &'static str {
        match self.cap {
            "daily_usd" => "USD",
            "max_tool_calls_per_run" => "tool calls",
            _ => "tokens",
        }
    }

    /// True once use went past the cap (a running run stops).
    pub fn crossed(&self) -> bool {
        self.used > self.limit
    }

    /// True when nothing is left (a new run is refused). Runaway guards never refuse.
    pub fn exhausted(&self) -> bool {
        !self.runaway && self.used >= self.limit && self.cap != "per_run_tokens"
    }

    pub fn ratio(&self) -> f64 {
        if self.limit <= 0.0 {
            1.0
        } else {
            self.used / self.limit
        }
    }
}

fn num(v: f64, money: bool) -> String {
    if money {
        format!("{v:.4}")
    } else {
        format!("{}", v.round() as i64)
    }
}

/// What the caps are measured against.
#[derive(Debug, Clone, Copy, Default)]
pub struct Measure {
    /// Finished runs (from the store, read when the run began).
    pub totals: UsageTotals,
    /// The running run's tokens and cost so far (0 when admitting a new run).
    pub run_tokens: u64,
    pub run_cost: f64,
    pub tool_calls: u64,
    /// The run's tokens within the last 60 s of the engine clock.
    pub minute_tokens: u64,
    pub resets_at_ms: i64,
}

/// Every set cap with its use, global caps first.
pub fn uses(global: &BudgetCaps, agent: Option<(&str, &BudgetCaps)>, m: &Measure) -> Vec<CapUse> {
    let mut out = Vec::new();
    push(&mut out, global, None, m);
    if let Some((id, caps)) = agent {
        push(&mut out, caps, Some(id), m);
    }
    out
}

fn push(out: &mut Vec<CapUse>, caps: &BudgetCaps, agent: Option<&str>, m: &Measure) {
    let run = m.run_tokens as f64;
    let (day_tokens, day_usd) = match agent {
        Some(_) => (m.totals.agent_day_tokens, m.totals.agent_day_usd),
        None => (m.totals.day_tokens, m.totals.day_usd),
    };
    let rows: [(&'static str, Option<f64>, f64, bool, bool); 6] = [
        (
            "per_run_tokens",
            caps.per_run_tokens.map(|v| v as f64),
            run,
            false,
            false,
        ),
        (
            "per_session_tokens",
            caps.per_session_tokens.map(|v| v as f64),
            m.totals.session_tokens as f64 + run,
            false,
            false,
        ),
        (
            "daily_tokens",
            caps.daily_tokens.map(|v| v as f64),
            day_tokens as f64 + run,
            true,
            false,
        ),
        (
            "daily_usd",
            caps.daily_usd,
            day_usd + m.run_cost,
            true,
            false,
        ),
        (
            "max_tool_calls_per_run",
            caps.max_tool_calls_per_run.map(|v| v as f64),
            m.tool_calls as f64,
            false,
            true,
        ),
        (
            "max_tokens_per_minute",
            caps.max_tokens_per_minute.map(|v| v as f64),
            m.minute_tokens as f64,
            false,
            true,
        ),
    ];
    for (cap, limit, used, daily, runaway) in rows {
        if let Some(limit) = limit {
            out.push(CapUse {
                cap,
                agent_id: agent.map(str::to_string),
                limit,
                used,
                resets_at_ms: daily.then_some(m.resets_at_ms),
                runaway,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_caps_measure_the_agents_own_day_and_runaway_guards_never_refuse() {
        let global = BudgetCaps {
            daily_tokens: Some(1000),
            max_tool_calls_per_run: Some(2),
            ..Default::default()
        };
        let agent = BudgetCaps {
            daily_tokens: Some(100),
            ..Default::default()
        };
        let m = Measure {
            totals: UsageTotals {
                day_tokens: 900,
                agent_day_tokens: 100,
                ..Default::default()
            },
            tool_calls: 3,
            resets_at_ms: 42,
            ..Default::default()
        };
        let u = uses(&global, Some(("a", &agent)), &m);
        assert_eq!(u.len(), 3);
        assert_eq!((u[0].used, u[0].exhausted()), (900.0, false));
        assert!(u[1].crossed() && !u[1].exhausted() && u[1].runaway);
        assert_eq!(u[2].name(), "budgets.agents.a.daily_tokens");
        assert!(u[2].exhausted() && !u[2].crossed());
        assert_eq!(u[2].resets_at_ms, Some(42));
    }
}
