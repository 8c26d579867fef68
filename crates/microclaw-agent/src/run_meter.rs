//! Counting one run's usage while its reply streams (characters / 4 until the provider's
//! `usage` arrives with the final result) and asking the budget keeper after each step
//! whether the run may go on.

use crate::agent::{estimate_tokens, AgentRequest, AgentUsage};
use crate::budget_guard::{
    settle_unguarded, BudgetStop, LiveCounters, LiveUsage, RunMeter, RunUsage, Settled,
};
use microclaw_core::SharedClock;
use std::sync::Arc;

pub(crate) struct Metering {
    meter: Option<Box<dyn RunMeter>>,
    live: LiveUsage,
    /// Characters streamed so far (the estimate rounds once over all of them).
    chars: u64,
    counters: Arc<LiveCounters>,
    clock: SharedClock,
}

/// Estimated input of a request: the message and its context.
pub(crate) fn input_estimate(req: &AgentRequest) -> u64 {
    estimate_tokens(&req.message)
        + req
            .history
            .iter()
            .map(|(_, t)| estimate_tokens(t))
            .sum::<u64>()
}

impl Metering {
    pub(crate) fn new(
        meter: Option<Box<dyn RunMeter>>,
        req: &AgentRequest,
        counters: Arc<LiveCounters>,
        clock: SharedClock,
    ) -> Metering {
        let live = LiveUsage {
            input_tokens: input_estimate(req),
            ..LiveUsage::default()
        };
        counters.store(&live);
        Metering {
            meter,
            live,
            chars: 0,
            counters,
            clock,
        }
    }

    fn check(&mut self) -> Option<BudgetStop> {
        self.counters.store(&self.live);
        let now = self.clock.now_ms();
        self.meter.as_mut()?.check(&self.live, now)
    }

    /// The model was never called (the run was refused as it began): nothing was used.
    pub(crate) fn nothing_sent(mut self) -> Metering {
        self.live = LiveUsage::default();
        self.counters.store(&self.live);
        self
    }

    /// A streamed chunk of the reply.
    pub(crate) fn chunk(&mut self, text: &str) -> Option<BudgetStop> {
        self.chars += text.chars().count() as u64;
        self.live.output_tokens = self.chars.div_ceil(4);
        self.check()
    }

    /// The agent started a tool call.
    pub(crate) fn tool_call(&mut self) -> Option<BudgetStop> {
        self.live.tool_calls += 1;
        self.check()
    }

    /// The run's final usage: the agent's counts when it returned them (estimated unless the
    /// provider reported every call), else what was counted while streaming.
    pub(crate) fn settle(&mut self, agent: Option<AgentUsage>) -> (RunUsage, Settled) {
        let (input, output, estimated) = match agent {
            Some(u) => (u.input_tokens, u.output_tokens, !u.reported),
            None => (self.live.input_tokens, self.live.output_tokens, true),
        };
        let mut usage = RunUsage {
            input_tokens: input,
            output_tokens: output,
            total_tokens: input + output,
            cost_usd: None,
            estimated,
        };
        let now = self.clock.now_ms();
        let settled = match self.meter.as_mut() {
            Some(m) => m.settle(&usage, now),
            None => settle_unguarded(now),
        };
        usage.cost_usd = settled.cost_usd;
        self.counters.store(&LiveUsage {
            input_tokens: input,
            output_tokens: output,
            tool_calls: self.live.tool_calls,
        });
        (usage, settled)
    }
}
