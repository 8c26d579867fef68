//! `Metrics`: the recording side. Every `record_*` is a handful of relaxed atomic adds:
//! no lock, no allocation (a label's first use initialises one table slot, once).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use microclaw_core::config::MetricsConfig;
use microclaw_core::SharedClock;

use crate::histogram::{AtomicHistogram, HistogramSnapshot};
use crate::labels::LabelTable;

/// Status classes counted per route: 1xx..5xx.
pub const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
const ROUTE_SLOTS: usize = 128;
const METHOD_SLOTS: usize = 128;

#[derive(Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    #[inline]
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Process-lifetime metrics (counters start at 0 on each start; history stores deltas).
pub struct Metrics {
    clock: SharedClock,
    started_ms: i64,
    http_routes: LabelTable<5>,
    http_latency_us: AtomicHistogram,
    bridge_methods: LabelTable<2>,
    bridge_connections: AtomicI64,
    active_runs: AtomicI64,
    active_sessions: AtomicI64,
    pub(crate) request_ok: Counter,
    pub(crate) request_error: Counter,
    pub(crate) request_aborted: Counter,
    request_latency_ms: AtomicHistogram,
    first_token_latency_ms: AtomicHistogram,
    pub(crate) llm_completions: Counter,
    pub(crate) llm_input_tokens: Counter,
    pub(crate) llm_output_tokens: Counter,
    pub(crate) tool_executions: Counter,
    pub(crate) tool_success: Counter,
    pub(crate) tool_error: Counter,
    pub(crate) tool_policy_blocks: Counter,
    pub(crate) scheduler_runs: Counter,
    pub(crate) scheduler_success: Counter,
    pub(crate) otlp_exported: Counter,
    pub(crate) otlp_dropped: Counter,
    pub(crate) otlp_retries: Counter,
    pub(crate) bridge_events_dropped: Counter,
    pub(crate) bridge_lag_closes: Counter,
    /// Tokens and cost by model (from finished runs).
    pub(crate) usage_by_model: crate::usage_by_model::UsageByModel,
}

/// A consistent-enough copy of every metric (each value is read atomically).
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub http_by_route: Vec<(&'static str, [u64; 5])>,
    pub bridge_by_method: Vec<(&'static str, [u64; 2])>,
    pub http_latency_us: HistogramSnapshot,
    pub request_latency_ms: HistogramSnapshot,
    pub first_token_latency_ms: HistogramSnapshot,
    pub bridge_connections: i64,
    pub active_runs: i64,
    pub active_sessions: i64,
    pub request_ok: u64,
    pub request_error: u64,
    pub request_aborted: u64,
    pub llm_completions: u64,
    pub llm_input_tokens: u64,
    pub llm_output_tokens: u64,
    pub tool_executions: u64,
    pub tool_success: u64,
    pub tool_error: u64,
    pub tool_policy_blocks: u64,
    pub scheduler_runs: u64,
    pub scheduler_success: u64,
    pub otlp_exported: u64,
    pub otlp_dropped: u64,
    pub otlp_retries: u64,
    /// Bridge events dropped for lagging connections (each leaves a protocol-4 `seq` gap).
    pub bridge_events_dropped: u64,
    /// Bridge connections closed with 1013 (queue full, lagged broadcast, undeliverable event).
    pub bridge_lag_closes: u64,
    /// Tokens and cost by model.
    pub usage_by_model: Vec<(String, crate::usage_by_model::ModelUsage)>,
    pub uptime_ms: i64,
    pub started_ms: i64,
}

impl Totals {
    pub fn http_requests(&self) -> u64 {
        self.http_by_route
            .iter()
            .map(|(_, c)| c.iter().sum::<u64>())
            .sum()
    }
    pub fn http_5xx(&self) -> u64 {
        self.http_by_route.iter().map(|(_, c)| c[4]).sum()
    }
    pub fn bridge_requests(&self) -> u64 {
        self.bridge_by_method.iter().map(|(_, c)| c[0] + c[1]).sum()
    }
    pub fn bridge_errors(&self) -> u64 {
        self.bridge_by_method.iter().map(|(_, c)| c[1]).sum()
    }
}

fn status_class(status: u16) -> usize {
    (status / 100).clamp(1, 5) as usize - 1
}

impl Metrics {
    pub fn new(clock: SharedClock, _cfg: &MetricsConfig) -> Arc<Metrics> {
        let started_ms = clock.now_ms();
        Arc::new(Metrics {
            clock,
            started_ms,
            http_routes: LabelTable::new(ROUTE_SLOTS),
            http_latency_us: AtomicHistogram::new(),
            bridge_methods: LabelTable::new(METHOD_SLOTS),
            bridge_connections: AtomicI64::new(0),
            active_runs: AtomicI64::new(0),
            active_sessions: AtomicI64::new(0),
            request_ok: Counter::default(),
            request_error: Counter::default(),
            request_aborted: Counter::default(),
            request_latency_ms: AtomicHistogram::new(),
            first_token_latency_ms: AtomicHistogram::new(),
            llm_completions: Counter::default(),
            llm_input_tokens: Counter::default(),
            llm_output_tokens: Counter::default(),
            tool_executions: Counter::default(),
            tool_success: Counter::default(),
            tool_error: Counter::default(),
            tool_policy_blocks: Counter::default(),
            scheduler_runs: Counter::default(),
            scheduler_success: Counter::default(),
            otlp_exported: Counter::default(),
            otlp_dropped: Counter::default(),
            otlp_retries: Counter::default(),
            bridge_events_dropped: Counter::default(),
            bridge_lag_closes: Counter::default(),
            usage_by_model: Default::default(),
        })
    }

    /// One HTTP request: `route` is the matched route template, never the raw path.
    #[inline]
    pub fn record_http(&self, route: &'static str, status: u16, latency_us: u64) {
        self.http_routes.incr(route, status_class(status));
        self.http_latency_us.record(latency_us);
    }

    /// One bridge request by method name.
    #[inline]
    pub fn record_bridge(&self, method: &'static str, ok: bool) {
        self.bridge_methods.incr(method, usize::from(!ok));
    }

    /// A droppable bridge event was dropped for a lagging connection.
    #[inline]
    pub fn bridge_event_dropped(&self) {
        self.bridge_events_dropped.add(1);
    }

    /// A bridge connection was closed with 1013 because it could not keep up.
    #[inline]
    pub fn bridge_lag_closed(&self) {
        self.bridge_lag_closes.add(1);
    }

    #[inline]
    pub fn bridge_connections_add(&self, delta: i64) {
        self.bridge_connections.fetch_add(delta, Ordering::Relaxed);
    }

    /// A chat run started: `active_runs += 1`.
    #[inline]
    pub fn run_started(&self) {
        self.active_runs.fetch_add(1, Ordering::Relaxed);
    }

    #[inline]
    pub fn run_first_token(&self, ms_since_start: u64) {
        self.first_token_latency_ms.record(ms_since_start);
    }

    /// A run reached its terminal state: `"final"` counts as ok, `"aborted"` as neither,
    /// anything else (`"error"`, or an unknown state) as an error. `active_runs -= 1`.
    /// Latency is recorded for final and error runs; tokens are added whatever the state.
    #[inline]
    pub fn run_finished(
        &self,
        state: &str,
        latency_ms: u64,
        input_tokens: u64,
        output_tokens: u64,
    ) {
        self.active_runs.fetch_sub(1, Ordering::Relaxed);
        match state {
            "final" => {
                self.request_ok.add(1);
                self.llm_completions.add(1);
                self.request_latency_ms.record(latency_ms);
            }
            "aborted" => self.request_aborted.add(1),
            _ => {
                self.request_error.add(1);
                self.request_latency_ms.record(latency_ms);
            }
        }
        self.llm_input_tokens.add(input_tokens);
        self.llm_output_tokens.add(output_tokens);
    }

    /// A finished run's usage by model (`cost_usd` None = the model has no price).
    pub fn record_model_usage(&self, model: &str, input: u64, output: u64, cost_usd: Option<f64>) {
        self.usage_by_model.record(model, input, output, cost_usd);
    }

    /// One tool call. A policy block counts as an execution and a block, but as neither
    /// success nor error (tool reliability excludes blocks).
    #[inline]
    pub fn record_tool(&self, ok: bool, policy_blocked: bool) {
        self.tool_executions.add(1);
        if policy_blocked {
            self.tool_policy_blocks.add(1);
        } else if ok {
            self.tool_success.add(1);
        } else {
            self.tool_error.add(1);
        }
    }

    /// One due scheduler run reaching its outcome: succeeded (first try or retry) or
    /// dead-lettered.
    #[inline]
    pub fn record_scheduler_run(&self, ok: bool) {
        self.scheduler_runs.add(1);
        if ok {
            self.scheduler_success.add(1);
        }
    }

    /// A dead-lettered due run (already counted as a failure) that a replay made succeed.
    #[inline]
    pub fn record_scheduler_recovered(&self) {
        self.scheduler_success.add(1);
    }

    #[inline]
    pub fn set_active_sessions(&self, n: i64) {
        self.active_sessions.store(n, Ordering::Relaxed);
    }

    pub fn active_runs(&self) -> i64 {
        self.active_runs.load(Ordering::Relaxed)
    }

    pub fn otlp_counts(&self) -> (u64, u64, u64) {
        (
            self.otlp_exported.get(),
            self.otlp_dropped.get(),
            self.otlp_retries.get(),
        )
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Copies every metric (allocates; for readers, not the request path).
    pub fn totals(&self) -> Totals {
        let now = self.clock.now_ms();
        Totals {
            http_by_route: self.http_routes.snapshot(),
            bridge_by_method: self.bridge_methods.snapshot(),
            http_latency_us: self.http_latency_us.snapshot(),
            request_latency_ms: self.request_latency_ms.snapshot(),
            first_token_latency_ms: self.first_token_latency_ms.snapshot(),
            bridge_connections: self.bridge_connections.load(Ordering::Relaxed),
            active_runs: self.active_runs.load(Ordering::Relaxed),
            active_sessions: self.active_sessions.load(Ordering::Relaxed),
            request_ok: self.request_ok.get(),
            request_error: self.request_error.get(),
            request_aborted: self.request_aborted.get(),
            llm_completions: self.llm_completions.get(),
            llm_input_tokens: self.llm_input_tokens.get(),
            llm_output_tokens: self.llm_output_tokens.get(),
            tool_executions: self.tool_executions.get(),
            tool_success: self.tool_success.get(),
            tool_error: self.tool_error.get(),
            tool_policy_blocks: self.tool_policy_blocks.get(),
            scheduler_runs: self.scheduler_runs.get(),
            scheduler_success: self.scheduler_success.get(),
            otlp_exported: self.otlp_exported.get(),
            otlp_dropped: self.otlp_dropped.get(),
            otlp_retries: self.otlp_retries.get(),
            bridge_events_dropped: self.bridge_events_dropped.get(),
            bridge_lag_closes: self.bridge_lag_closes.get(),
            usage_by_model: self.usage_by_model.snapshot(),
            uptime_ms: (now - self.started_ms).max(0),
            started_ms: self.started_ms,
        }
    }

    /// The `/api/metrics` `metrics` object.
    pub fn snapshot(&self) -> serde_json::Value {
        crate::snapshot_json::metrics_json(&self.totals())
    }
}
