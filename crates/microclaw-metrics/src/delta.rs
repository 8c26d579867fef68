//! `Delta`: what happened in one bucket of time (a minute row of `metrics_history`, or a
//! downsampled step). Counters are deltas, gauges are the peak sampled in the bucket, the
//! latency histograms are the bucket's own samples. Deltas add up across restarts.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::histogram::SparseHistogram;
use crate::recorder::Totals;

macro_rules! delta_struct {
    (counters { $($c:ident = $get:expr),* $(,)? } gauges { $($g:ident),* $(,)? }) => {
        /// One bucket's deltas. Unknown fields in stored rows are ignored, missing ones are 0.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct Delta {
            $(pub $c: u64,)*
            $(pub $g: i64,)*
            #[serde(skip_serializing_if = "SparseHistogram::is_empty")]
            pub request_latency_ms: SparseHistogram,
            #[serde(skip_serializing_if = "SparseHistogram::is_empty")]
            pub first_token_latency_ms: SparseHistogram,
        }

        /// Names of the counter fields, in display order (CSV columns, chart series).
        pub const COUNTER_FIELDS: &[&str] = &[$(stringify!($c)),*];
        /// Names of the gauge fields.
        pub const GAUGE_FIELDS: &[&str] = &[$(stringify!($g)),*];

        impl Delta {
            /// What changed from `before` to `now` (both of this process); gauges take `now`.
            pub fn between(before: &Totals, now: &Totals) -> Delta {
                let get = |t: &Totals| -> Vec<u64> { vec![$(($get)(t)),*] };
                let (a, b) = (get(before), get(now));
                let mut diff = b.iter().zip(a.iter()).map(|(n, o)| n.saturating_sub(*o));
                Delta {
                    $($c: diff.next().unwrap_or(0),)*
                    $($g: now.$g,)*
                    request_latency_ms: now.request_latency_ms.delta_since(&before.request_latency_ms).to_sparse(),
                    first_token_latency_ms: now
                        .first_token_latency_ms
                        .delta_since(&before.first_token_latency_ms)
                        .to_sparse(),
                }
            }

            /// Adds `other` into `self`: counters and histograms add, gauges keep the peak.
            pub fn merge(&mut self, other: &Delta) {
                $(self.$c += other.$c;)*
                $(self.$g = self.$g.max(other.$g);)*
                self.request_latency_ms.merge(&other.request_latency_ms);
                self.first_token_latency_ms.merge(&other.first_token_latency_ms);
            }

            /// Adds counters and keeps the peak gauges, leaving histograms alone.
            pub fn merge_counters(&mut self, other: &Delta) {
                $(self.$c += other.$c;)*
                $(self.$g = self.$g.max(other.$g);)*
            }

            /// True when no counter moved and no sample was recorded (gauges ignored).
            pub fn is_quiet(&self) -> bool {
                true $(&& self.$c == 0)* && self.request_latency_ms.is_empty() && self.first_token_latency_ms.is_empty()
            }

            /// Counter value by field name (0 for an unknown name).
            pub fn counter(&self, name: &str) -> u64 {
                match name { $(stringify!($c) => self.$c,)* _ => 0 }
            }

            /// Gauge value by field name (0 for an unknown name).
            pub fn gauge(&self, name: &str) -> i64 {
                match name { $(stringify!($g) => self.$g,)* _ => 0 }
            }
        }
    };
}

delta_struct! {
    counters {
        http_requests = |t: &Totals| t.http_requests(),
        http_5xx = |t: &Totals| t.http_5xx(),
        bridge_requests = |t: &Totals| t.bridge_requests(),
        bridge_errors = |t: &Totals| t.bridge_errors(),
        request_ok = |t: &Totals| t.request_ok,
        request_error = |t: &Totals| t.request_error,
        request_aborted = |t: &Totals| t.request_aborted,
        llm_completions = |t: &Totals| t.llm_completions,
        llm_input_tokens = |t: &Totals| t.llm_input_tokens,
        llm_output_tokens = |t: &Totals| t.llm_output_tokens,
        tool_executions = |t: &Totals| t.tool_executions,
        tool_success = |t: &Totals| t.tool_success,
        tool_error = |t: &Totals| t.tool_error,
        tool_policy_blocks = |t: &Totals| t.tool_policy_blocks,
        scheduler_runs = |t: &Totals| t.scheduler_runs,
        scheduler_success = |t: &Totals| t.scheduler_success,
        otlp_exported = |t: &Totals| t.otlp_exported,
        otlp_dropped = |t: &Totals| t.otlp_dropped,
        otlp_retries = |t: &Totals| t.otlp_retries,
    }
    gauges { active_runs, active_sessions, bridge_connections }
}

impl Delta {
    /// Parses one stored row.
    pub fn from_json(s: &str) -> microclaw_core::Result<Delta> {
        serde_json::from_str(s).map_err(|e| {
            microclaw_core::Error::invalid(format!(
                "metrics history row is not valid JSON for a minute delta: {e}"
            ))
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// A history point: `{timestamp_ms, …counters, …gauges, p50_latency_ms, p95_latency_ms}`.
    pub fn point_json(&self, timestamp_ms: i64) -> Value {
        let mut m = Map::new();
        m.insert("timestamp_ms".into(), json!(timestamp_ms));
        for name in COUNTER_FIELDS {
            m.insert((*name).into(), json!(self.counter(name)));
        }
        for name in GAUGE_FIELDS {
            m.insert((*name).into(), json!(self.gauge(name)));
        }
        m.insert(
            "p50_latency_ms".into(),
            json!(self.request_latency_ms.quantile(0.50)),
        );
        m.insert(
            "p95_latency_ms".into(),
            json!(self.request_latency_ms.quantile(0.95)),
        );
        Value::Object(m)
    }
}
