//! One running run measured against the caps after every streamed chunk and tool call.

use super::caps::{CapUse, Measure};
use super::{window, Budgets};
use microclaw_agent::{BudgetStop, LiveUsage, MeterStart, RunMeter, RunUsage, Settled, StopReason};
use microclaw_store::UsageTotals;
use std::collections::VecDeque;
use std::sync::Arc;

/// Samples kept for the tokens-per-minute guard (older ones are folded away).
const MINUTE_MS: i64 = 60_000;
const MAX_SAMPLES: usize = 4096;

pub(super) struct Meter {
    budgets: Arc<Budgets>,
    start: MeterStart,
    totals: UsageTotals,
    resets_at_ms: i64,
    /// (engine ms, run tokens at that time), oldest first.
    samples: VecDeque<(i64, u64)>,
    /// Run tokens at the newest sample older than a minute (the per-minute baseline).
    before_window: u64,
}

impl Meter {
    pub(super) fn new(
        b: Arc<Budgets>,
        start: MeterStart,
        totals: UsageTotals,
        resets_at_ms: i64,
    ) -> Meter {
        Meter {
            budgets: b,
            start,
            totals,
            resets_at_ms,
            samples: VecDeque::new(),
            before_window: 0,
        }
    }

    fn minute_tokens(&mut self, now: i64, total: u64) -> u64 {
        while let Some(&(t, v)) = self.samples.front() {
            if t <= now - MINUTE_MS || self.samples.len() >= MAX_SAMPLES {
                self.before_window = v;
                self.samples.pop_front();
            } else {
                break;
            }
        }
        self.samples.push_back((now, total));
        total.saturating_sub(self.before_window)
    }

    /// A daily window that ended while the run was going: the new day starts empty.
    fn roll_window(&mut self, now: i64) {
        if now >= self.resets_at_ms {
            self.totals.day_tokens = 0;
            self.totals.day_usd = 0.0;
            self.totals.agent_day_tokens = 0;
            self.totals.agent_day_usd = 0.0;
            self.resets_at_ms = window::next_reset_ms(self.budgets.zone(), now);
        }
    }

    fn measure(
        &self,
        tokens: u64,
        input: u64,
        output: u64,
        tool_calls: u64,
        minute: u64,
    ) -> Measure {
        Measure {
            totals: self.totals,
            run_tokens: tokens,
            run_cost: self
                .budgets
                .cost(&self.start.model, input, output)
                .unwrap_or(0.0),
            tool_calls,
            minute_tokens: minute,
            resets_at_ms: self.resets_at_ms,
        }
    }
}

fn stop_message(u: &CapUse) -> String {
    let what = if u.runaway {
        "runaway guard"
    } else {
        "budget cap"
    };
    format!(
        "stopped by the {what} {} = {} {}: used {}",
        u.name(),
        u.limit_text(),
        u.unit(),
        u.used_text()
    )
}

impl RunMeter for Meter {
    fn check(&mut self, live: &LiveUsage, now_ms: i64) -> Option<BudgetStop> {
        self.roll_window(now_ms);
        let minute = self.minute_tokens(now_ms, live.total());
        let m = self.measure(
            live.total(),
            live.input_tokens,
            live.output_tokens,
            live.tool_calls,
            minute,
        );
        let crossed = self.budgets.evaluate(
            &self.start.agent_id,
            &m,
            &self.start.session_key,
            &self.start.run_id,
        )?;
        Some(BudgetStop {
            reason: if crossed.runaway {
                StopReason::Runaway
            } else {
                StopReason::Budget
            },
            message: stop_message(&crossed),
        })
    }

    fn settle(&mut self, usage: &RunUsage, now_ms: i64) -> Settled {
        let cost = self
            .budgets
            .cost(&self.start.model, usage.input_tokens, usage.output_tokens);
        self.budgets.metrics.record_model_usage(
            &self.start.model,
            usage.input_tokens,
            usage.output_tokens,
            cost,
        );
        // The final counts (the provider's, when it reported) may pass a warning threshold.
        self.roll_window(now_ms);
        let m = Measure {
            minute_tokens: 0,
            tool_calls: 0,
            ..self.measure(
                usage.total_tokens,
                usage.input_tokens,
                usage.output_tokens,
                0,
                0,
            )
        };
        let _ = self.budgets.evaluate(
            &self.start.agent_id,
            &m,
            &self.start.session_key,
            &self.start.run_id,
        );
        Settled {
            cost_usd: cost,
            day: window::day_of(self.budgets.zone(), now_ms),
        }
    }
}
