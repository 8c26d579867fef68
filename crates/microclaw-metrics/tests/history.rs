#![allow(clippy::unwrap_used)]
mod common;

use common::*;
use serde_json::Value;

fn points(v: &Value) -> &Vec<Value> {
    v["points"].as_array().unwrap()
}

#[test]
fn flush_writes_minute_deltas_and_history_reads_them_ascending() {
    let r = rig();
    runs(&r.metrics, 3, "final", 1000);
    r.clock.advance_ms(10_000);
    r.engine.flush().unwrap();
    r.clock.advance_ms(MIN);
    runs(&r.metrics, 2, "error", 4000);
    r.engine.flush().unwrap();
    r.clock.advance_ms(5_000);
    runs(&r.metrics, 1, "final", 100); // not flushed: the live minute
    let h = r.engine.history(5, 60, 2000).unwrap();
    assert_eq!(h["ok"], true);
    assert_eq!(h["step_seconds"], 60);
    let p = points(&h);
    assert_eq!(p.len(), 5);
    let ts: Vec<i64> = p
        .iter()
        .map(|x| x["timestamp_ms"].as_i64().unwrap())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] < w[1]), "points ascend");
    assert_eq!(ts[4], T0 + MIN, "the last point is the current minute");
    assert_eq!(p[3]["request_ok"], 3);
    assert_eq!(p[4]["request_error"], 2, "deltas, not cumulative values");
    assert_eq!(
        p[4]["request_ok"], 1,
        "the live unflushed minute is included"
    );
    let p95 = p[4]["p95_latency_ms"].as_u64().unwrap();
    assert!(
        (3700..=4300).contains(&p95),
        "p95 of the minute ≈ 4000, got {p95}"
    );
}

#[test]
fn flushes_within_a_minute_and_restarts_add_up_instead_of_resetting() {
    let r = rig();
    runs(&r.metrics, 4, "final", 10);
    r.engine.flush().unwrap();
    runs(&r.metrics, 1, "final", 10);
    r.clock.advance_ms(10_000);
    r.engine.flush().unwrap();
    // A restart within the same minute: counters of the new process start at 0.
    let (m2, e2) = r.restart();
    runs(&m2, 2, "final", 10);
    r.clock.advance_ms(10_000);
    e2.flush().unwrap();
    let p = e2.history(1, 60, 10).unwrap();
    assert_eq!(
        points(&p)[0]["request_ok"],
        7,
        "4 + 1 from the first process, 2 from the second"
    );
    // Next minute after restart: no jump back to zero and no double counting.
    r.clock.advance_ms(MIN);
    runs(&m2, 1, "final", 10);
    e2.flush().unwrap();
    let p = e2.history(2, 60, 10).unwrap();
    assert_eq!(points(&p)[0]["request_ok"], 7);
    assert_eq!(points(&p)[1]["request_ok"], 1);
}

#[test]
fn a_crash_loses_at_most_what_was_not_flushed() {
    let r = rig();
    runs(&r.metrics, 5, "final", 10);
    r.engine.flush().unwrap();
    runs(&r.metrics, 3, "error", 10); // never flushed: the process "crashes"
    let (_m2, e2) = r.restart();
    let p = e2.history(1, 60, 10).unwrap();
    assert_eq!(points(&p)[0]["request_ok"], 5, "flushed data survives");
    assert_eq!(
        points(&p)[0]["request_error"],
        0,
        "unflushed data (one flush interval) is the bound of the loss"
    );
}

#[test]
fn downsampling_sums_counters_and_merges_latency() {
    let r = rig();
    for minute in 0..10 {
        runs(&r.metrics, 1, "final", 100 * (minute + 1));
        r.engine.flush().unwrap();
        r.clock.advance_ms(MIN);
    }
    // 10 minutes of data, then query 10 minutes (the current, empty minute included) at 5-min steps.
    let h = r.engine.history(11, 300, 100).unwrap();
    assert_eq!(h["step_seconds"], 300);
    let total: u64 = points(&h)
        .iter()
        .map(|p| p["request_ok"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 10, "downsampling keeps every count");
    let first = &points(&h)[0];
    assert_eq!(
        first["timestamp_ms"].as_i64().unwrap() % 300_000,
        0,
        "steps align to the step size"
    );
    // limit smaller than the number of steps widens the step to the next automatic step
    // that fits: 10-minute steps would touch 7 aligned steps here, 20-minute ones 4.
    let h = r.engine.history(60, 60, 6).unwrap();
    assert_eq!(h["step_seconds"], 1200);
    assert!(points(&h).len() <= 6);
}

#[test]
fn retention_prunes_in_the_same_flush() {
    let mut cfg = microclaw_core::Config::default();
    cfg.metrics.history_retention_days = 1;
    let r = rig_with(cfg);
    runs(&r.metrics, 1, "final", 10);
    r.engine.flush().unwrap();
    assert_eq!(r.store.metrics_history_range(0, i64::MAX).unwrap().len(), 1);
    r.clock.advance_ms(86_400_000 + MIN);
    runs(&r.metrics, 1, "final", 10);
    r.engine.flush().unwrap();
    let rows = r.store.metrics_history_range(0, i64::MAX).unwrap();
    assert_eq!(rows.len(), 1, "the day-old row is pruned");
    assert!(rows[0].0 > T0);
}

#[test]
fn bad_parameters_and_damaged_rows_are_errors_or_skipped_never_panics() {
    let r = rig();
    for (m, s, l) in [
        (0, 60, 10),
        (43_201, 60, 10),
        (60, 90, 10),
        (60, 60, 0),
        (5, 600, 10),
    ] {
        let e = r.engine.history(m, s, l).unwrap_err();
        assert_eq!(
            e.code,
            microclaw_core::ErrorCode::InvalidRequest,
            "{m}/{s}/{l}: {e}"
        );
        assert!(
            e.message.contains("expected"),
            "the error says what is expected: {e}"
        );
    }
    r.store
        .metrics_history_put(&[
            (T0 - MIN, "{not json".into()),
            (T0 - 2 * MIN, r#"{"request_ok":"x"}"#.into()),
        ])
        .unwrap();
    r.store
        .metrics_history_put(&[(T0 - 3 * MIN, r#"{"request_ok":2}"#.into())])
        .unwrap();
    let h = r.engine.history(5, 60, 10).unwrap();
    let total: u64 = points(&h)
        .iter()
        .map(|p| p["request_ok"].as_u64().unwrap())
        .sum();
    assert_eq!(
        total, 2,
        "the damaged rows are skipped, the good one is read"
    );
}
