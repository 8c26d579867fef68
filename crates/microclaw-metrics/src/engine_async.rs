//! Async forms of the heavy [`MetricsEngine`] work, for handlers and engine operations: each
//! runs the blocking method on `spawn_blocking` once one of [`HEAVY_PERMITS`] permits is free,
//! so a burst of 30-day queries never occupies a tokio worker nor more than two blocking
//! threads. The sync methods stay for the offline CLI and tests.

use std::sync::Arc;

use serde_json::Value;

use microclaw_core::{Error, Result};

use crate::engine::{MetricsEngine, HEAVY_PERMITS};
use crate::export::ExportFormat;
use crate::history::HistoryRequest;

impl MetricsEngine {
    async fn run_heavy<T, F>(self: &Arc<Self>, what: &'static str, f: F) -> Result<T>
    where
        F: FnOnce(&MetricsEngine) -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = Arc::clone(&self.heavy)
            .acquire_owned()
            .await
            .map_err(|_| Error::unavailable(format!("{what}: the metrics engine is stopping")))?;
        let me = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let out = f(&me);
            drop(permit);
            out
        })
        .await
        .map_err(|e| Error::internal(format!("{what} task failed: {e}")))
    }

    /// [`history_request`](Self::history_request) off the async workers.
    pub async fn history_async(self: &Arc<Self>, req: HistoryRequest) -> Result<Value> {
        self.run_heavy("metrics history", move |e| e.history_request(&req))
            .await?
    }

    /// [`summary`](Self::summary) off the async workers (a failure is reported inside the
    /// body as `{ok:false, error}`, like the sync form).
    pub async fn summary_async(self: &Arc<Self>) -> Value {
        match self.run_heavy("metrics summary", |e| e.summary()).await {
            Ok(v) => v,
            Err(err) => serde_json::json!({
                "ok": false, "error": {"code": err.code.as_str(), "message": err.message},
                "metrics": self.metrics.snapshot(), "otlp": self.otlp_json(),
            }),
        }
    }

    /// [`slo_brief`](Self::slo_brief) off the async workers.
    pub async fn slo_brief_async(self: &Arc<Self>) -> Value {
        match self.run_heavy("metrics slo brief", |e| e.slo_brief()).await {
            Ok(v) => v,
            Err(err) => serde_json::json!({
                "state": "no_data", "firing": [], "error": err.message, "otlp": self.otlp_json(),
            }),
        }
    }

    /// [`export`](Self::export) off the async workers.
    pub async fn export_async(
        self: &Arc<Self>,
        format: ExportFormat,
        minutes: u32,
    ) -> Result<Vec<u8>> {
        self.run_heavy("metrics export", move |e| e.export(format, minutes))
            .await?
    }

    /// How many heavy queries may run at once.
    pub fn heavy_permits(&self) -> usize {
        HEAVY_PERMITS
    }
}
