//! OTLP/HTTP metrics export.
//!
//! Every `otlp_export_interval_seconds` the current metrics are converted to an
//! `ExportMetricsServiceRequest` (opentelemetry-proto types, prost-encoded) and pushed into a
//! bounded queue of `otlp_queue_capacity` batches (full → drop the oldest, `otlp_dropped += 1`).
//! A sender task pops batches and POSTs them to `<endpoint>/v1/metrics`, retrying 429/5xx and
//! network errors with exponential backoff and jitter up to `otlp_retry_max_attempts`
//! (a batch that exhausts its attempts or gets another 4xx is dropped and counted).
//! Recording never waits on any of this.
//!
//! We POST ourselves rather than use the SDK's exporter because that exporter does not expose
//! the HTTP status, which the retry rules (no retry on 4xx except 429) need.

pub mod convert;
pub mod queue;
pub mod redact;
pub mod sender;

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use prost::Message;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use microclaw_core::config::ObservabilityConfig;
use microclaw_core::Result;

use crate::recorder::Metrics;
use queue::BatchQueue;
use sender::Sender;

#[derive(Debug, Default, Clone)]
struct Status {
    last_error: Option<String>,
    last_error_ms: Option<i64>,
    last_success_ms: Option<i64>,
}

pub struct OtlpExporter {
    metrics: Arc<Metrics>,
    service_name: String,
    interval: Duration,
    queue: BatchQueue,
    sender: Sender,
    status: Mutex<Status>,
}

impl OtlpExporter {
    /// Validates the endpoint and headers; nothing is sent until [`spawn`](Self::spawn).
    pub fn new(metrics: Arc<Metrics>, cfg: &ObservabilityConfig) -> Result<Arc<OtlpExporter>> {
        Ok(Arc::new(OtlpExporter {
            metrics,
            service_name: cfg.service_name.clone(),
            interval: Duration::from_secs(cfg.otlp_export_interval_seconds.max(1)),
            queue: BatchQueue::new(cfg.otlp_queue_capacity),
            sender: Sender::new(cfg)?,
            status: Mutex::new(Status::default()),
        }))
    }

    /// Builds a batch of the current metrics and queues it (drops the oldest when full).
    pub fn enqueue_now(&self) {
        let now = self.metrics.clock().now_ms();
        let req = convert::build_request(&self.metrics.totals(), &self.service_name, now);
        self.enqueue_bytes(req.encode_to_vec());
    }

    /// Queues an already encoded batch.
    pub fn enqueue_bytes(&self, batch: Vec<u8>) {
        let dropped = self.queue.push(batch);
        if dropped > 0 {
            self.metrics.otlp_dropped.add(dropped);
        }
    }

    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// Sends one batch with retries; updates the counters and status.
    async fn deliver(&self, batch: Vec<u8>) {
        let policy = self.sender.policy;
        let mut attempt = 1;
        loop {
            match self.sender.send_once(batch.clone()).await {
                Ok(()) => {
                    self.metrics.otlp_exported.add(1);
                    self.status.lock().last_success_ms = Some(self.metrics.clock().now_ms());
                    return;
                }
                Err(f) => {
                    {
                        let mut s = self.status.lock();
                        s.last_error = Some(f.message.clone());
                        s.last_error_ms = Some(self.metrics.clock().now_ms());
                    }
                    if !f.retryable || attempt >= policy.max_attempts {
                        tracing::warn!(error = %f.message, attempt, "OTLP batch dropped");
                        self.metrics.otlp_dropped.add(1);
                        return;
                    }
                    self.metrics.otlp_retries.add(1);
                    tokio::time::sleep(policy.backoff(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }

    /// `{enabled, endpoint, exported, dropped, retries, queued, last_error, last_error_ms, last_success_ms}`.
    pub fn status_json(&self) -> Value {
        let (exported, dropped, retries) = self.metrics.otlp_counts();
        let s = self.status.lock().clone();
        json!({
            "enabled": true, "endpoint": self.sender.shown_url(),
            "exported": exported, "dropped": dropped, "retries": retries,
            "queued": self.queue.len(), "queue_capacity": self.queue.capacity(),
            "last_error": s.last_error, "last_error_ms": s.last_error_ms, "last_success_ms": s.last_success_ms,
        })
    }

    /// Starts the batch ticker and the sender; both stop when `shutdown` fires.
    pub fn spawn(self: &Arc<Self>, shutdown: CancellationToken) -> JoinHandle<()> {
        let ticker = {
            let me = Arc::clone(self);
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(me.interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await; // the first tick fires at once: wait a full interval instead
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tick.tick() => me.enqueue_now(),
                    }
                }
            })
        };
        let me = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    batch = me.queue.pop() => {
                        tokio::select! {
                            _ = shutdown.cancelled() => break,
                            _ = me.deliver(batch) => {}
                        }
                    }
                }
            }
            let _ = ticker.await;
        })
    }
}

/// The `otlp` object when export is off.
pub fn disabled_status_json(metrics: &Metrics) -> Value {
    let (exported, dropped, retries) = metrics.otlp_counts();
    json!({ "enabled": false, "exported": exported, "dropped": dropped, "retries": retries, "last_error": null })
}
