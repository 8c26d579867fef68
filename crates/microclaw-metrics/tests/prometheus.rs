#![allow(clippy::unwrap_used)]
mod common;

use std::collections::HashMap;

use common::*;

#[test]
fn exposition_is_well_formed_0_0_4_text() {
    let r = rig();
    r.metrics.record_http("/api/send", 200, 2000);
    r.metrics.record_http("/api/x\"y", 500, 2000);
    r.metrics.record_bridge("chat.send", true);
    runs(&r.metrics, 3, "final", 700);
    runs(&r.metrics, 1, "error", 20_000);
    let text = r.engine.prometheus_text();
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helps = 0;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(name.starts_with("microclaw_"), "{line}");
            types.insert(name.into(), kind.into());
            continue;
        }
        if line.starts_with("# HELP microclaw_") {
            helps += 1;
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        value
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("value of {line}"));
        let name = series.split('{').next().unwrap();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| types.get(*f).map(String::as_str) == Some("histogram"))
            })
            .unwrap_or(name);
        let kind = types
            .get(family)
            .unwrap_or_else(|| panic!("{name} has no TYPE line before it"));
        if kind == "counter" {
            assert!(
                name.ends_with("_total"),
                "counter {name} must end in _total"
            );
        }
    }
    assert_eq!(helps, types.len(), "one HELP per metric family");
    assert!(text.contains("microclaw_request_ok_total 3\n"));
    assert!(text.contains("microclaw_http_requests_total{route=\"/api/send\",status=\"2xx\"} 1\n"));
    assert!(
        text.contains("route=\"/api/x\\\"y\""),
        "label values are escaped"
    );
    assert_eq!(types["microclaw_request_latency_ms"], "histogram");
    // Buckets are cumulative and end with +Inf = count.
    let buckets: Vec<u64> = text
        .lines()
        .filter(|l| l.starts_with("microclaw_request_latency_ms_bucket"))
        .map(|l| l.rsplit_once(' ').unwrap().1.parse().unwrap())
        .collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(*buckets.last().unwrap(), 4);
    assert!(text.contains("microclaw_request_latency_ms_bucket{le=\"1000\"} 3\n"));
    assert!(text.contains("microclaw_request_latency_ms_count 4\n"));
    assert!(text.contains("microclaw_request_latency_ms_sum 22100\n"));
}
