#![allow(clippy::unwrap_used)]
//! Rollups on a real SQLite file with a manual clock: they equal the sum of their minutes,
//! queries that read them answer exactly what a scan of every minute answers, the step is
//! chosen within `limit`, the columns form has `null` gaps, and the 28-day summary from
//! rollups equals the minute scan.
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::*;
use microclaw_core::Clock;
use microclaw_metrics::delta::Delta;
use microclaw_metrics::histogram::AtomicHistogram;
use microclaw_metrics::history::{self, decode_rows, read_rows};
use microclaw_metrics::slo::SloReport;
use microclaw_metrics::{HistoryFormat, HistoryRequest, MetricsEngine};
use microclaw_store::metrics_history::RollupLevel;
use microclaw_store::Store;
use serde_json::Value;

const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

/// A minute's delta that differs minute by minute (counters, a gauge, latencies).
fn minute_delta(m: i64) -> Delta {
    let h = AtomicHistogram::new();
    for k in 0..(m % 5) as u64 {
        h.record(100 + (m as u64 * 37 + k * 211) % 9000);
    }
    Delta {
        http_requests: 1 + (m % 7) as u64,
        request_ok: (m % 4) as u64,
        request_error: (m % 13 == 0) as u64,
        tool_success: (m % 3) as u64,
        tool_error: (m % 29 == 0) as u64,
        scheduler_runs: (m % 90 == 0) as u64,
        scheduler_success: (m % 180 == 0) as u64,
        active_runs: m % 6,
        request_latency_ms: h.snapshot().to_sparse(),
        ..Delta::default()
    }
}

/// Minute rows for every `every`-th minute of `[from, to)`, written straight to the store
/// (a database filled before rollups existed).
fn seed(store: &Store, from: i64, to: i64, every: i64) {
    let mut rows = Vec::new();
    let mut ts = from;
    while ts < to {
        rows.push((ts, minute_delta(ts / MIN).to_json()));
        if rows.len() == 2000 {
            store.metrics_history_put(&rows).unwrap();
            rows.clear();
        }
        ts += every * MIN;
    }
    store.metrics_history_put(&rows).unwrap();
}

fn rollups(store: &Store, level: RollupLevel) -> Vec<(i64, Delta)> {
    decode_rows(
        store
            .metrics_rollup_range(level, i64::MIN, i64::MAX)
            .unwrap(),
        "rollup",
    )
}

/// The minute rows merged per bucket of `width` — what a rollup must hold.
fn expected_buckets(store: &Store, width: i64, before: i64) -> BTreeMap<i64, Delta> {
    let mut out: BTreeMap<i64, Delta> = BTreeMap::new();
    for (ts, d) in read_rows(store, i64::MIN, before - 1).unwrap() {
        out.entry(ts.div_euclid(width) * width)
            .or_default()
            .merge(&d);
    }
    out
}

fn engine_at(r: &Rig, now: i64) -> Arc<MetricsEngine> {
    r.clock.set_ms(now);
    r.engine.clone()
}

#[test]
fn flushes_roll_up_closed_buckets_equal_to_the_sum_of_their_minutes() {
    let r = rig();
    // 130 minutes of live traffic through the real flush path, 3 flushes a minute.
    for minute in 0..130u64 {
        for _ in 0..3 {
            runs(&r.metrics, minute % 4, "final", 50 + minute * 40);
            runs(&r.metrics, (minute % 9 == 0) as u64, "error", 9000);
            r.clock.advance_ms(20_000);
            r.engine.flush().unwrap();
        }
    }
    let now = r.clock.now_ms();
    for level in RollupLevel::ALL {
        let w = level.width_ms();
        let open = now.div_euclid(w) * w;
        let got: BTreeMap<i64, Delta> = rollups(&r.store, level).into_iter().collect();
        let want = expected_buckets(&r.store, w, open);
        assert!(!want.is_empty());
        assert_eq!(got, want, "{level:?}: rollups = merged minutes");
        assert!(
            got.keys().all(|b| b + w <= open),
            "{level:?}: only complete buckets are rolled up"
        );
    }
    assert_eq!(rollups(&r.store, RollupLevel::TenMinutes).len(), 13);
    assert_eq!(rollups(&r.store, RollupLevel::Hour).len(), 2);
}

#[test]
fn existing_minute_rows_are_backfilled_at_first_start() {
    let r = rig();
    let now = T0 + 3 * DAY + 17 * MIN + 5_000;
    seed(&r.store, T0 - 2 * DAY, now - MIN, 3);
    assert!(rollups(&r.store, RollupLevel::Hour).is_empty());
    let (_m, engine) = r.restart();
    r.clock.set_ms(now);
    let written = engine.roll_up().unwrap();
    assert!(written > 0);
    assert_eq!(
        engine.roll_up().unwrap(),
        0,
        "a no-op within the same minute"
    );
    for level in RollupLevel::ALL {
        let w = level.width_ms();
        let got: BTreeMap<i64, Delta> = rollups(&r.store, level).into_iter().collect();
        assert_eq!(
            got,
            expected_buckets(&r.store, w, now.div_euclid(w) * w),
            "{level:?}"
        );
    }
    // The start of the flush loop runs the same backfill (here on an emptied rollup table).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let r2 = rig();
    seed(&r2.store, T0 - DAY, T0, 5);
    let stop = microclaw_metrics::CancellationToken::new();
    let task = {
        let _entered = rt.enter();
        r2.engine.spawn(stop.clone())
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while rollups(&r2.store, RollupLevel::Hour).len() < 24 {
        assert!(std::time::Instant::now() < deadline, "backfill at start");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    stop.cancel();
    rt.block_on(task).unwrap();
}

/// History as the old code computed it: every minute row, merged per step.
fn minute_scan(r: &Rig, engine: &MetricsEngine, minutes: u32, step_ms: i64) -> Vec<(i64, Delta)> {
    let now = r.clock.now_ms();
    let from = now.div_euclid(MIN) * MIN - (i64::from(minutes) - 1) * MIN;
    let rows = read_rows(&r.store, from, now).unwrap();
    history::history_points(&rows, &engine.live_delta(), now, minutes, step_ms)
}

#[test]
fn history_from_rollups_equals_the_minute_scan_for_unaligned_ranges() {
    let r = rig();
    let now = T0 + 5 * DAY + 7 * HOUR + 23 * MIN + 41_000;
    seed(&r.store, T0, now - 2 * MIN, 1);
    let e = engine_at(&r, now);
    e.roll_up().unwrap();
    // Minutes recorded after the last rollup (the tail) and not yet flushed (live).
    seed(&r.store, now - 2 * MIN, now - MIN, 1);
    runs(&r.metrics, 2, "final", 700);
    for (minutes, step_s) in [
        (7_237u32, 3_600u32),
        (4_001, 600),
        (1_441, 1_200),
        (59, 60),
        (3_000, 7_200),
    ] {
        let step_ms = i64::from(step_s) * 1000;
        let want = minute_scan(&r, &e, minutes, step_ms);
        let got = e.history_points(minutes, step_ms).unwrap();
        assert_eq!(got, want, "{minutes} min at {step_s} s");
        let body = e.history(minutes, step_s, 43_200).unwrap();
        assert_eq!(body["step_seconds"], step_s);
        assert_eq!(body["points"].as_array().unwrap().len(), want.len());
    }
}

#[test]
fn the_step_is_validated_and_chosen_within_the_limit() {
    let r = rig();
    let e = engine_at(&r, T0 + 30 * DAY + 12 * MIN);
    let req = |minutes, step_seconds, limit| HistoryRequest {
        minutes,
        step_seconds,
        limit,
        format: HistoryFormat::Points,
    };
    // Automatic: the smallest step of the list that keeps the answer within the limit.
    let h = e.history_request(&req(43_200, None, 2_000)).unwrap();
    assert_eq!(h["step_seconds"], 1_800);
    let n = h["points"].as_array().unwrap().len();
    assert!((1_000..=2_000).contains(&n), "{n} points");
    let h = e.history_request(&req(60, None, 2_000)).unwrap();
    assert_eq!(h["step_seconds"], 60, "short ranges keep minutes");
    assert_eq!(h["points"].as_array().unwrap().len(), 60);
    let h = e.history_request(&req(43_200, None, 500)).unwrap();
    assert_eq!(h["step_seconds"], 7_200);
    assert!(h["points"].as_array().unwrap().len() <= 500);
    // Explicit steps are kept when they fit, widened when they do not.
    let h = e.history_request(&req(43_200, Some(3_600), 2_000)).unwrap();
    assert_eq!(h["step_seconds"], 3_600);
    let h = e.history_request(&req(43_200, Some(60), 2_000)).unwrap();
    assert_eq!(h["step_seconds"], 1_800);
    // Bad steps and limits name the parameter and what is expected.
    for (minutes, step, limit, what) in [
        (60, Some(90), 2_000, "step=90"),
        (60, Some(0), 2_000, "step=0"),
        (60, Some(30), 2_000, "step=30"),
        (5, Some(600), 2_000, "step=600"),
        (60, None, 0, "limit=0"),
        (60, None, 43_201, "limit=43201"),
        (0, None, 10, "minutes=0"),
    ] {
        let err = e.history_request(&req(minutes, step, limit)).unwrap_err();
        assert_eq!(err.code, microclaw_core::ErrorCode::InvalidRequest);
        assert!(err.message.contains(what), "{what}: {err}");
        assert!(err.message.contains("expected"), "{err}");
    }
    assert!("table"
        .parse::<HistoryFormat>()
        .unwrap_err()
        .message
        .contains("points or columns"));
}

#[test]
fn columns_have_null_gaps_not_zeros() {
    let r = rig();
    let now = T0 + 2 * HOUR + 30_000;
    // Data at minutes 0..10 and 70..80 of the range; nothing in between.
    seed(&r.store, T0, T0 + 10 * MIN, 1);
    seed(&r.store, T0 + 70 * MIN, T0 + 80 * MIN, 1);
    let e = engine_at(&r, now);
    e.roll_up().unwrap();
    let req = |step| HistoryRequest {
        minutes: 121,
        step_seconds: Some(step),
        limit: 2_000,
        format: HistoryFormat::Columns,
    };
    let c = e.history_request(&req(600)).unwrap();
    assert_eq!(c["step_seconds"], 600);
    let ts = c["timestamps"].as_array().unwrap();
    assert_eq!(ts.len(), 13);
    assert!(c.get("points").is_none());
    let series = c["series"].as_object().unwrap();
    for name in [
        "http_requests",
        "request_ok",
        "active_runs",
        "p95_latency_ms",
    ] {
        assert_eq!(series[name].as_array().unwrap().len(), ts.len(), "{name}");
    }
    let http = series["http_requests"].as_array().unwrap();
    let has_data = |i: usize| i == 0 || i == 7;
    for (i, v) in http.iter().enumerate() {
        assert_eq!(v.is_null(), !has_data(i), "step {i}: {v}");
    }
    // The same steps in the points form are zero-filled (unchanged for existing clients).
    let p = e.history(121, 600, 2_000).unwrap();
    let points = p["points"].as_array().unwrap();
    assert_eq!(points.len(), ts.len());
    assert_eq!(points[3]["http_requests"], 0);
    for (i, pt) in points.iter().enumerate() {
        assert_eq!(pt["timestamp_ms"], ts[i]);
        if has_data(i) {
            assert_eq!(pt["http_requests"], http[i]);
        }
    }
    // Minute steps: a minute with a row but no latency sample has counters and a null p95.
    let c = e.history_request(&req(60)).unwrap();
    let s = &c["series"];
    let idx = c["timestamps"]
        .as_array()
        .unwrap()
        .iter()
        .position(|t| t.as_i64() == Some(T0 + 5 * MIN))
        .unwrap();
    assert_eq!(
        minute_delta((T0 + 5 * MIN) / MIN)
            .request_latency_ms
            .count(),
        0
    );
    assert!(s["http_requests"][idx].is_number());
    assert!(s["p95_latency_ms"][idx].is_null());
    assert!(
        s["http_requests"][idx + 30].is_null(),
        "a minute without data is null"
    );
}

#[test]
fn summary_from_rollups_equals_the_minute_scan() {
    let r = rig();
    let now = T0 + 30 * DAY + 3 * HOUR + 41 * MIN + 12_000;
    seed(&r.store, T0, now - 3 * MIN, 2);
    let e = engine_at(&r, now);
    e.roll_up().unwrap();
    seed(&r.store, now - 3 * MIN, now, 1); // flushed after the last rollup
    runs(&r.metrics, 3, "error", 4_000); // live, not flushed
    let rows = read_rows(&r.store, i64::MIN, i64::MAX).unwrap();
    let scan = SloReport::compute(
        &rows,
        &e.live_delta(),
        now,
        r.cfg.metrics.slo_window_minutes,
    );
    let fast = e.slo_report().unwrap();
    assert_eq!(fast.slo_json(), scan.slo_json());
    let defs = microclaw_metrics::slo_file::builtin();
    assert_eq!(fast.error_budget_json(&defs), scan.error_budget_json(&defs));
    assert!(fast.budget.requests() > 10_000, "the budget covers 28 days");
    let s = e.summary();
    assert_eq!(
        s["slo"]["request_success_rate"]["sample_size"],
        scan.value.requests()
    );
    assert_eq!(s["error_budget"], scan.error_budget_json(&defs));
}

#[test]
fn a_30_day_history_returns_at_most_2000_points_and_a_small_body() {
    let r = rig();
    let now = T0 + 30 * DAY;
    seed(&r.store, now - 30 * DAY, now, 1);
    let e = engine_at(&r, now);
    e.roll_up().unwrap();
    for format in [HistoryFormat::Points, HistoryFormat::Columns] {
        let req = HistoryRequest {
            minutes: 43_200,
            step_seconds: None,
            limit: 2_000,
            format,
        };
        let body = e.history_request(&req).unwrap();
        let n = match format {
            HistoryFormat::Points => body["points"].as_array().unwrap().len(),
            HistoryFormat::Columns => body["timestamps"].as_array().unwrap().len(),
        };
        assert!(n <= 2_000, "{n} points");
        let bytes = serde_json::to_vec(&body).unwrap().len();
        assert!(bytes < 2_000_000, "{format:?}: {bytes} bytes");
        let total: u64 = match format {
            HistoryFormat::Points => body["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["http_requests"].as_u64().unwrap())
                .sum(),
            HistoryFormat::Columns => body["series"]["http_requests"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_u64)
                .sum(),
        };
        let want: u64 = read_rows(&r.store, now - 43_199 * MIN, now)
            .unwrap()
            .iter()
            .map(|(_, d)| d.http_requests)
            .sum();
        assert_eq!(total, want, "{format:?}: every minute counted once");
    }
}

#[test]
fn a_damaged_rollup_row_is_skipped_not_fatal() {
    let r = rig();
    let now = T0 + 3 * HOUR;
    seed(&r.store, T0, now, 1);
    let e = engine_at(&r, now);
    e.roll_up().unwrap();
    r.store
        .metrics_rollup_put(RollupLevel::Hour, &[(T0 + HOUR, "{broken".into())])
        .unwrap();
    let h = e.history(181, 3_600, 100).unwrap();
    let p = h["points"].as_array().unwrap();
    assert_eq!(p.len(), 4, "three rolled hours and the open one");
    assert_eq!(p[1]["timestamp_ms"], T0 + HOUR);
    assert_eq!(p[1]["http_requests"], 0, "the damaged hour reads as empty");
    assert!(p[0]["http_requests"].as_u64().unwrap() > 0);
}
