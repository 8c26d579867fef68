//! Our metrics as an OTLP `ExportMetricsServiceRequest` (opentelemetry-proto types, encoded
//! with prost): cumulative sums since process start, gauges, explicit-bucket histograms.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, number_data_point, AggregationTemporality, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::histogram::HistogramSnapshot;
use crate::prometheus::{MS_BOUNDS, US_BOUNDS};
use crate::recorder::{Totals, STATUS_CLASSES};

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
    }
}

struct Times {
    start_ns: u64,
    now_ns: u64,
}

fn point(t: &Times, attributes: Vec<KeyValue>, v: i64) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        start_time_unix_nano: t.start_ns,
        time_unix_nano: t.now_ns,
        value: Some(number_data_point::Value::AsInt(v)),
        ..Default::default()
    }
}

fn sum(name: &str, unit: &str, points: Vec<NumberDataPoint>) -> Metric {
    Metric {
        name: format!("microclaw.{name}"),
        unit: unit.into(),
        data: Some(Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        })),
        ..Default::default()
    }
}

fn counter(t: &Times, name: &str, v: u64) -> Metric {
    sum(name, "1", vec![point(t, vec![], v as i64)])
}

fn gauge(t: &Times, name: &str, v: i64) -> Metric {
    Metric {
        name: format!("microclaw.{name}"),
        unit: "1".into(),
        data: Some(Data::Gauge(Gauge {
            data_points: vec![point(t, vec![], v)],
        })),
        ..Default::default()
    }
}

fn histogram(t: &Times, name: &str, unit: &str, h: &HistogramSnapshot, bounds: &[u64]) -> Metric {
    // Per-bucket (not cumulative) counts for each explicit bound, plus the overflow bucket.
    let mut counts = Vec::with_capacity(bounds.len() + 1);
    let mut below = 0;
    for le in bounds {
        let c = h.count_le(*le);
        counts.push(c - below);
        below = c;
    }
    counts.push(h.count() - below);
    Metric {
        name: format!("microclaw.{name}"),
        unit: unit.into(),
        data: Some(Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                start_time_unix_nano: t.start_ns,
                time_unix_nano: t.now_ns,
                count: h.count(),
                sum: Some(h.sum() as f64),
                bucket_counts: counts,
                explicit_bounds: bounds.iter().map(|b| *b as f64).collect(),
                ..Default::default()
            }],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        })),
        ..Default::default()
    }
}

fn ns(ms: i64) -> u64 {
    (ms.max(0) as u64).saturating_mul(1_000_000)
}

/// One export request holding every metric at `now_ms`.
pub fn build_request(t: &Totals, service_name: &str, now_ms: i64) -> ExportMetricsServiceRequest {
    let times = Times {
        start_ns: ns(t.started_ms),
        now_ns: ns(now_ms),
    };
    let tm = &times;
    let mut http = Vec::new();
    for (route, counts) in &t.http_by_route {
        for (class, n) in STATUS_CLASSES.iter().zip(counts).filter(|(_, n)| **n > 0) {
            http.push(point(
                tm,
                vec![kv("http.route", route), kv("status_class", class)],
                *n as i64,
            ));
        }
    }
    let mut bridge = Vec::new();
    for (method, [ok, err]) in &t.bridge_by_method {
        bridge.push(point(
            tm,
            vec![kv("method", method), kv("outcome", "ok")],
            *ok as i64,
        ));
        bridge.push(point(
            tm,
            vec![kv("method", method), kv("outcome", "error")],
            *err as i64,
        ));
    }
    let metrics = vec![
        sum("http_requests", "1", http),
        sum("bridge_requests", "1", bridge),
        histogram(
            tm,
            "http_request_duration",
            "us",
            &t.http_latency_us,
            US_BOUNDS,
        ),
        histogram(
            tm,
            "request_latency",
            "ms",
            &t.request_latency_ms,
            MS_BOUNDS,
        ),
        histogram(
            tm,
            "first_token_latency",
            "ms",
            &t.first_token_latency_ms,
            MS_BOUNDS,
        ),
        gauge(tm, "bridge_connections", t.bridge_connections),
        gauge(tm, "active_runs", t.active_runs),
        gauge(tm, "active_sessions", t.active_sessions),
        counter(tm, "request_ok", t.request_ok),
        counter(tm, "request_error", t.request_error),
        counter(tm, "llm_completions", t.llm_completions),
        counter(tm, "llm_input_tokens", t.llm_input_tokens),
        counter(tm, "llm_output_tokens", t.llm_output_tokens),
        counter(tm, "tool_executions", t.tool_executions),
        counter(tm, "tool_success", t.tool_success),
        counter(tm, "tool_error", t.tool_error),
        counter(tm, "tool_policy_blocks", t.tool_policy_blocks),
        counter(tm, "scheduler_runs", t.scheduler_runs),
        counter(tm, "scheduler_success", t.scheduler_success),
        counter(tm, "otlp_exported", t.otlp_exported),
        counter(tm, "otlp_dropped", t.otlp_dropped),
        counter(tm, "otlp_retries", t.otlp_retries),
    ];
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", service_name),
                    kv("service.version", microclaw_core::VERSION),
                ],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "microclaw-metrics".into(),
                    version: microclaw_core::VERSION.into(),
                    ..Default::default()
                }),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}
