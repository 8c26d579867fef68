//! The two JSON forms of `/api/metrics/history`: `points` (one object per step, zero-filled,
//! what existing clients read) and `columns` (one array per series, `null` for gaps: uPlot's
//! data layout, see style.md §18).

use serde_json::{json, Map, Value};

use crate::delta::{Delta, COUNTER_FIELDS, GAUGE_FIELDS};

/// The `points` body.
pub fn history_json(points: &[(i64, Delta)], minutes: u32, step_ms: i64) -> Value {
    let points: Vec<Value> = points.iter().map(|(ts, d)| d.point_json(*ts)).collect();
    json!({ "ok": true, "minutes": minutes, "step_seconds": step_ms / 1000, "points": points })
}

/// The `columns` body: `{ok, minutes, step_seconds, timestamps, series:{name:[…]}}`. A step
/// without any row is `null` in every series; the latency quantiles are also `null` for a
/// step with rows but no latency sample.
pub fn columns_json(steps: &[(i64, Option<Delta>)], minutes: u32, step_ms: i64) -> Value {
    let n = steps.len();
    let timestamps: Vec<Value> = steps.iter().map(|(ts, _)| json!(ts)).collect();
    let mut series = Map::new();
    let mut column = |name: &str, f: &dyn Fn(&Delta) -> Value| {
        let mut col = Vec::with_capacity(n);
        for (_, d) in steps {
            col.push(d.as_ref().map_or(Value::Null, f));
        }
        series.insert(name.to_string(), Value::Array(col));
    };
    for name in COUNTER_FIELDS {
        column(name, &|d: &Delta| json!(d.counter(name)));
    }
    for name in GAUGE_FIELDS {
        column(name, &|d: &Delta| json!(d.gauge(name)));
    }
    for (name, q) in [("p50_latency_ms", 0.50), ("p95_latency_ms", 0.95)] {
        column(name, &|d: &Delta| {
            if d.request_latency_ms.is_empty() {
                Value::Null
            } else {
                json!(d.request_latency_ms.quantile(q))
            }
        });
    }
    json!({
        "ok": true, "minutes": minutes, "step_seconds": step_ms / 1000,
        "timestamps": timestamps, "series": series,
    })
}
