//! Metrics and SLO engine: counters, histograms, minute history, burn alerts, Prometheus,
//! OTLP and charts/export.
//!
//! - [`Metrics`] records (atomics only; no lock or allocation on the request path).
//! - [`MetricsEngine`] keeps minute history in the store (deltas, so restarts add up),
//!   computes SLO windows and burn-rate alerts, renders Prometheus text, exports OTLP and
//!   writes snapshot files.

pub mod aggregate;
pub mod alert_rules;
pub mod alert_state;
pub mod alerts;
mod alerts_eval;
pub mod delta;
pub mod engine;
mod engine_async;
mod engine_query;
pub mod export;
pub mod histogram;
pub mod history;
mod history_json;
pub mod labels;
pub mod otlp;
pub mod prometheus;
pub mod recorder;
pub mod rollup;
pub mod slo;
pub mod slo_file;
pub mod slo_summary;
mod snapshot_json;
pub mod usage_by_model;

pub use alerts::{Alert, AlertEvent, RuleStatus};
pub use alerts_eval::TRANSITIONS_KEPT;
pub use delta::Delta;
pub use engine::MetricsEngine;
pub use export::{write_export_atomic, ExportFormat};
pub use history::{HistoryFormat, HistoryRequest};
pub use recorder::{Metrics, Totals};
pub use slo_file::SloDef;
pub use tokio_util::sync::CancellationToken;
