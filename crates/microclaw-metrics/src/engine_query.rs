//! The heavy reads of [`MetricsEngine`]: history (points or columns, from rollups where the
//! step allows) and the SLO windows (hourly rollups for the long ones). Blocking: async code
//! calls them through `engine_async`.

use serde_json::Value;

use microclaw_core::Result;
use microclaw_store::metrics_history::RollupLevel;

use crate::aggregate::{minute_start, trailing_windows, Aggregate, MINUTE_MS};
use crate::delta::Delta;
use crate::engine::MetricsEngine;
use crate::history::{self, HistoryFormat, HistoryRequest};
use crate::rollup;
use crate::slo::SloReport;

/// Windows up to this many minutes are summed from minute rows; longer ones from hourly
/// rollups plus the minutes at either end.
const MINUTE_WINDOW_MAX: u32 = 360;

impl MetricsEngine {
    /// The `/api/metrics/history` body in the `points` form; `step_seconds` 0 = automatic.
    pub fn history(&self, minutes: u32, step_seconds: u32, limit: u32) -> Result<Value> {
        self.history_request(&HistoryRequest {
            minutes,
            step_seconds: (step_seconds != 0).then_some(step_seconds),
            limit,
            format: HistoryFormat::Points,
        })
    }

    /// The `/api/metrics/history` body for a full request (either form).
    pub fn history_request(&self, req: &HistoryRequest) -> Result<Value> {
        let now = self.clock.now_ms();
        let step_ms = history::choose_step(req, now)?;
        let steps = self.steps_at(now, req.minutes, step_ms)?;
        Ok(match req.format {
            HistoryFormat::Points => {
                let points: Vec<(i64, Delta)> = steps
                    .into_iter()
                    .map(|(ts, d)| (ts, d.unwrap_or_default()))
                    .collect();
                history::history_json(&points, req.minutes, step_ms)
            }
            HistoryFormat::Columns => history::columns_json(&steps, req.minutes, step_ms),
        })
    }

    /// Zero-filled points of `step_ms` over the last `minutes` (export, charts).
    pub fn history_points(&self, minutes: u32, step_ms: i64) -> Result<Vec<(i64, Delta)>> {
        let now = self.clock.now_ms();
        Ok(self
            .steps_at(now, minutes.max(1), step_ms.max(MINUTE_MS))?
            .into_iter()
            .map(|(ts, d)| (ts, d.unwrap_or_default()))
            .collect())
    }

    fn steps_at(&self, now: i64, minutes: u32, step_ms: i64) -> Result<Vec<(i64, Option<Delta>)>> {
        let from = minute_start(now) - (i64::from(minutes) - 1) * MINUTE_MS;
        let rows = rollup::read_range(&self.store, from, now, rollup::level_for_step(step_ms))?;
        Ok(history::history_steps(
            &rows,
            &self.live_delta(),
            now,
            minutes,
            step_ms,
        ))
    }

    /// One aggregate per trailing window of `minutes` (ending at the live minute, which is
    /// included). Short windows share one read of minute rows; each long one reads its hourly
    /// rollups plus at most an hour of minutes at either end.
    pub fn window_aggregates(&self, now: i64, minutes: &[u32]) -> Result<Vec<Aggregate>> {
        let live = self.live_delta();
        let current = minute_start(now);
        let start = |m: u32| current - (i64::from(m.max(1)) - 1) * MINUTE_MS;
        let short: Vec<u32> = minutes
            .iter()
            .copied()
            .filter(|m| *m <= MINUTE_WINDOW_MAX)
            .collect();
        let short_aggs = match short.iter().max() {
            Some(longest) => {
                let rows = history::read_rows(&self.store, start(*longest), now)?;
                trailing_windows(&rows, &live, now, &short)
            }
            None => Vec::new(),
        };
        let mut short_aggs = short_aggs.into_iter();
        let mut out = Vec::with_capacity(minutes.len());
        for m in minutes {
            if *m <= MINUTE_WINDOW_MAX {
                out.push(short_aggs.next().unwrap_or_default());
            } else {
                let rows =
                    rollup::read_range(&self.store, start(*m), now, Some(RollupLevel::Hour))?;
                let agg = trailing_windows(&rows, &live, now, &[*m]).pop();
                out.push(agg.unwrap_or_default());
            }
        }
        Ok(out)
    }

    /// The SLO report over every window, the 28-day budget included, from rollups and the
    /// open minutes.
    pub fn slo_report(&self) -> Result<SloReport> {
        let now = self.clock.now_ms();
        let vw = self.cfg.slo_window_minutes;
        let aggs = self.window_aggregates(now, &SloReport::window_minutes(vw))?;
        Ok(SloReport::from_aggregates(&aggs, now, vw))
    }
}
