//! `MetricsEngine`: minute history, SLOs, alerts, Prometheus, OTLP and export around a
//! [`Metrics`] and a [`Store`].

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::sync::{broadcast, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use microclaw_core::config::MetricsConfig;
use microclaw_core::{Config, Result, SharedClock};
use microclaw_store::Store;

use crate::aggregate::{minute_start, MINUTE_MS};
use crate::alerts::{Alert, AlertEvent, AlertTracker};
use crate::delta::Delta;
use crate::export::ExportFormat;
use crate::history;
use crate::otlp::{self, OtlpExporter};
use crate::recorder::{Metrics, Totals};
use crate::rollup;
use crate::slo::WindowValues;

const DAY_MS: i64 = 86_400_000;
/// How many heavy metrics queries (history, summary, export) run at once on blocking threads.
pub const HEAVY_PERMITS: usize = 2;

pub struct MetricsEngine {
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) store: Store,
    pub(crate) clock: SharedClock,
    pub(crate) cfg: MetricsConfig,
    /// Totals as of the last successful flush; live delta = totals now - this.
    baseline: Mutex<Totals>,
    /// The minute at which the rollups were last brought up to date (they only change when
    /// a minute closes).
    rolled_at_minute: Mutex<Option<i64>>,
    /// Permits for the heavy blocking work of the async methods (see `engine_async`).
    pub(crate) heavy: Arc<Semaphore>,
    /// The one source of truth for alert state (see `alerts_eval`).
    pub(crate) alerts: Mutex<AlertTracker>,
    pub(crate) alert_tx: broadcast::Sender<AlertEvent>,
    otlp: Option<Arc<OtlpExporter>>,
    otlp_config_error: Option<String>,
}

impl MetricsEngine {
    /// OTLP export starts with [`spawn`](Self::spawn) when `observability.otlp_enabled`; an
    /// invalid endpoint or header disables it and shows the reason under `otlp.last_error`.
    pub fn new(
        metrics: Arc<Metrics>,
        store: Store,
        clock: SharedClock,
        cfg: &Config,
    ) -> Arc<MetricsEngine> {
        let (otlp, otlp_config_error) = if cfg.observability.otlp_enabled {
            match OtlpExporter::new(Arc::clone(&metrics), &cfg.observability) {
                Ok(e) => (Some(e), None),
                Err(e) => {
                    tracing::error!(error = %e, "OTLP export disabled");
                    (None, Some(e.to_string()))
                }
            }
        } else {
            (None, None)
        };
        let (alert_tx, _) = broadcast::channel(64);
        // Counters of a new process start at 0: the baseline is zero, so the first flush
        // adds everything recorded since start.
        let baseline = Totals {
            started_ms: clock.now_ms(),
            ..Totals::default()
        };
        let me = Arc::new(MetricsEngine {
            metrics,
            store,
            clock,
            cfg: cfg.metrics.clone(),
            baseline: Mutex::new(baseline),
            rolled_at_minute: Mutex::new(None),
            heavy: Arc::new(Semaphore::new(HEAVY_PERMITS)),
            alerts: Mutex::new(AlertTracker::default()),
            alert_tx,
            otlp,
            otlp_config_error,
        });
        // The built-in SLOs, with the states stored before a restart.
        me.set_slo_defs(crate::slo_file::builtin());
        me
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn otlp(&self) -> Option<&Arc<OtlpExporter>> {
        self.otlp.as_ref()
    }

    /// What was recorded since the last flush (it belongs to the current minute).
    pub fn live_delta(&self) -> Delta {
        let base = self.baseline.lock();
        Delta::between(&base, &self.metrics.totals())
    }

    /// Adds everything recorded since the last flush into the current minute's row, prunes
    /// rows older than the retention, rolls up the buckets that closed, then evaluates the
    /// alerts. On error nothing is lost: the next flush carries the same delta (and rolls up
    /// what is missing).
    pub fn flush(&self) -> Result<()> {
        {
            let mut base = self.baseline.lock();
            let now = self.clock.now_ms();
            let totals = self.metrics.totals();
            let delta = Delta::between(&base, &totals);
            let gauges_set = delta.active_runs != 0
                || delta.active_sessions != 0
                || delta.bridge_connections != 0;
            if !delta.is_quiet() || gauges_set {
                history::add_into_bucket(&self.store, minute_start(now), &delta)?;
            }
            *base = totals;
            let retention_ms = i64::from(self.cfg.history_retention_days.max(1)) * DAY_MS;
            self.store
                .metrics_history_prune(minute_start(now) - retention_ms)?;
        }
        self.roll_up()?;
        self.evaluate_alerts()?;
        Ok(())
    }

    /// Writes the 10-minute and hourly rollups of every bucket that closed since the last
    /// call (all of them on a database without rollups: the backfill). Returns how many rollup
    /// rows were written; a no-op within the same minute.
    pub fn roll_up(&self) -> Result<usize> {
        let now = self.clock.now_ms();
        let mut at = self.rolled_at_minute.lock();
        if *at == Some(minute_start(now)) {
            return Ok(0);
        }
        let n = rollup::roll_up(&self.store, now, self.cfg.history_retention_days.max(1))?;
        *at = Some(minute_start(now));
        Ok(n)
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The `/api/metrics/summary` body (also evaluates the alerts).
    pub fn summary(&self) -> Value {
        match self.alert_report() {
            Ok(report) => {
                self.apply_alerts(&report);
                let tracker = self.alerts.lock();
                let firing = tracker.firing();
                json!({
                    "ok": true, "window": "rolling", "computed_at": report.computed_at,
                    "slo": crate::slo_summary::slo_json(&report, &tracker),
                    "alerts": firing,
                    "error_budget": report.error_budget_json(tracker.defs()),
                    "metrics": self.metrics.snapshot(),
                    "otlp": self.otlp_json(),
                })
            }
            Err(e) => json!({
                "ok": false, "error": {"code": e.code.as_str(), "message": e.message},
                "metrics": self.metrics.snapshot(), "otlp": self.otlp_json(),
            }),
        }
    }

    /// `{state:"ok"|"burning"|"no_data", firing, request_success_rate, e2e_latency_p95_ms, otlp}`.
    pub fn slo_brief(&self) -> Value {
        let now = self.clock.now_ms();
        let window = self.cfg.slo_window_minutes.max(1);
        let agg = self
            .window_aggregates(now, &[window])
            .ok()
            .and_then(|mut a| a.pop())
            .unwrap_or_default();
        let v = WindowValues::from_aggregate(&agg);
        let firing: Vec<Value> = self
            .firing_alerts()
            .iter()
            .map(|a| json!({"slo": a.slo, "severity": a.severity, "rule": a.rule}))
            .collect();
        let state = if !firing.is_empty() {
            "burning"
        } else if v.requests() == 0 && v.latency_samples == 0 {
            "no_data"
        } else {
            "ok"
        };
        json!({
            "state": state, "firing": firing,
            "request_success_rate": if v.requests() == 0 { json!(null) } else { json!(v.success_rate()) },
            "sample_size": v.requests(),
            "e2e_latency_p95_ms": if v.latency_samples == 0 { json!(null) } else { json!(v.latency_p95_ms) },
            "otlp": self.otlp_json(),
        })
    }

    pub fn firing_alerts(&self) -> Vec<Alert> {
        self.alerts.lock().firing()
    }

    pub fn subscribe_alerts(&self) -> broadcast::Receiver<AlertEvent> {
        self.alert_tx.subscribe()
    }

    pub fn prometheus_text(&self) -> String {
        crate::prometheus::render(&self.metrics.totals())
    }

    pub fn otlp_json(&self) -> Value {
        match (&self.otlp, &self.otlp_config_error) {
            (Some(o), _) => o.status_json(),
            (None, Some(err)) => {
                let mut v = otlp::disabled_status_json(&self.metrics);
                v["last_error"] = json!(err);
                v
            }
            (None, None) => otlp::disabled_status_json(&self.metrics),
        }
    }

    /// A snapshot file of the last `minutes` (1..=43200).
    pub fn export(&self, format: ExportFormat, minutes: u32) -> Result<Vec<u8>> {
        crate::export::render(self, format, minutes)
    }

    /// Starts the flush loop (every `metrics.flush_interval_seconds` and at each minute
    /// boundary, so deltas land in the right minute) and the OTLP tasks. The loop first
    /// brings the rollups up to date (the backfill of a database written before them). When
    /// `shutdown` fires it flushes one last time and returns.
    pub fn spawn(self: &Arc<Self>, shutdown: CancellationToken) -> JoinHandle<()> {
        let otlp_task = self.otlp.as_ref().map(|o| o.spawn(shutdown.clone()));
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let m = Arc::clone(&me);
            match tokio::task::spawn_blocking(move || m.roll_up()).await {
                Ok(Ok(n)) if n > 0 => {
                    tracing::info!(rows = n, "metrics rollups brought up to date")
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "metrics rollup failed; the next flush retries")
                }
                Err(e) => tracing::error!(error = %e, "metrics rollup task panicked"),
            }
            let interval_ms = (me.cfg.flush_interval_seconds.clamp(1, 300) * 1000) as i64;
            let mut next_flush = me.clock.now_ms() + interval_ms;
            loop {
                let now = me.clock.now_ms();
                let next_minute = minute_start(now) + MINUTE_MS + 5;
                let wake = next_flush.min(next_minute);
                let wait = Duration::from_millis((wake - now).clamp(1, interval_ms) as u64);
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(wait) => {}
                }
                let m = Arc::clone(&me);
                match tokio::task::spawn_blocking(move || m.flush()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "metrics flush failed; will retry"),
                    Err(e) => tracing::error!(error = %e, "metrics flush task panicked"),
                }
                if me.clock.now_ms() >= next_flush {
                    next_flush = me.clock.now_ms() + interval_ms;
                }
            }
            let m = Arc::clone(&me);
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || m.flush()).await {
                tracing::warn!(error = %e, "final metrics flush failed");
            }
            if let Some(t) = otlp_task {
                let _ = t.await;
            }
        })
    }
}
