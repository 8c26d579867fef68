//! Metrics benchmark: recording cost, summary over 30 days of minute history in a real
//! SQLite store, the 30-day history before (a scan of every minute row, 43,200 points) and
//! after rollups (automatic step, points and columns), chart rendering.
//!
//! Run: `cargo run --release -p microclaw-metrics --example metrics_bench [-- OUT_DIR]`
//! (with OUT_DIR the rendered chart.svg / chart.png are written there).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Instant;

use microclaw_core::config::Synchronous;
use microclaw_core::{Config, ManualClock, SharedClock};
use microclaw_metrics::histogram::AtomicHistogram;
use microclaw_metrics::history;
use microclaw_metrics::slo::SloReport;
use microclaw_metrics::{
    Delta, ExportFormat, HistoryFormat, HistoryRequest, Metrics, MetricsEngine,
};
use microclaw_store::Store;

const MIN: i64 = 60_000;

fn time<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed().as_secs_f64())
}

fn main() {
    let out_dir = std::env::args().nth(1);
    let cfg = Config::default();
    let now = 1_704_067_200_000 + 30 * 86_400_000;
    let clock = ManualClock::new(now);
    let shared: SharedClock = Arc::new(clock.clone());
    let metrics = Metrics::new(shared.clone(), &cfg.metrics);

    // Recording, one thread.
    let n: u64 = 5_000_000;
    let (_, secs) = time(|| {
        for i in 0..n {
            metrics.record_http("/api/send", 200, i & 4095);
        }
    });
    println!("metrics record_single_ns={:.1}", secs * 1e9 / n as f64);
    let (_, secs) = time(|| {
        for i in 0..n {
            metrics.run_started();
            metrics.run_finished("final", i & 8191, 10, 20);
        }
    });
    println!(
        "metrics run_finished_single_ns={:.1}",
        secs * 1e9 / n as f64
    );

    // Recording, two contending threads on the same counters.
    let (_, secs) = time(|| {
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let m = Arc::clone(&metrics);
                std::thread::spawn(move || {
                    for i in 0..n {
                        m.record_http("/api/send", 200, i & 4095);
                    }
                })
            })
            .collect();
        ts.into_iter().for_each(|t| t.join().unwrap());
    });
    println!(
        "metrics record_contended_2threads_ns={:.1}",
        secs * 1e9 / n as f64
    );

    // 30 days of minute history in a real store.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("bench.db"), Synchronous::Normal).unwrap();
    let minutes = 30 * 1440;
    let (_, secs) = time(|| {
        let mut rows = Vec::with_capacity(1000);
        for m in 0..minutes {
            let h = AtomicHistogram::new();
            for k in 0..20u64 {
                h.record(300 + (m as u64 * 7 + k * 131) % 5000);
            }
            let d = Delta {
                http_requests: 40,
                request_ok: 19,
                request_error: (m % 50 == 0) as u64,
                llm_completions: 19,
                tool_executions: 5,
                tool_success: 5,
                active_runs: 2,
                request_latency_ms: h.snapshot().to_sparse(),
                ..Delta::default()
            };
            rows.push((now - (minutes - m) * MIN, d.to_json()));
            if rows.len() == 1000 {
                store.metrics_history_put(&rows).unwrap();
                rows.clear();
            }
        }
        store.metrics_history_put(&rows).unwrap();
    });
    println!("metrics history_fill_rows={minutes} secs={secs:.2}");
    let engine = MetricsEngine::new(metrics.clone(), store.clone(), shared, &cfg);

    // Before: the 28-day summary as a scan of every minute row (the old path).
    let reps = 5;
    let (_, secs) = time(|| {
        for _ in 0..reps {
            let rows = history::read_rows(&store, now - 28 * 1440 * MIN, now).unwrap();
            std::hint::black_box(SloReport::compute(
                &rows,
                &engine.live_delta(),
                now,
                cfg.metrics.slo_window_minutes,
            ));
        }
    });
    println!(
        "metrics summary_30d_minute_scan_ms={:.1} (before)",
        secs * 1e3 / reps as f64
    );
    let (n, secs) = time(|| engine.roll_up().unwrap());
    println!("metrics rollup_backfill_30d_ms={:.0} rows={n}", secs * 1e3);
    let (_, secs) = time(|| {
        for _ in 0..reps {
            std::hint::black_box(engine.summary());
        }
    });
    println!(
        "metrics summary_30d_ms={:.1} (after: rollups)",
        secs * 1e3 / reps as f64
    );
    let (_, secs) = time(|| {
        for _ in 0..reps {
            std::hint::black_box(engine.slo_brief());
        }
    });
    println!("metrics slo_brief_ms={:.2}", secs * 1e3 / reps as f64);
    let (_, secs) = time(|| engine.evaluate_alerts().unwrap());
    println!("metrics evaluate_alerts_ms={:.2}", secs * 1e3);
    let (_, secs) = time(|| engine.flush().unwrap());
    println!("metrics flush_ms={:.2}", secs * 1e3);

    // Before: 30 days at minute steps (every minute row read, 43,200 points).
    let (h, secs) = time(|| engine.history(43_200, 60, 43_200).unwrap());
    let (json, ser) = time(|| serde_json::to_vec(&h).unwrap());
    println!(
        "metrics history_30d_before_ms={:.1} points={} bytes={} (minute scan + serialize)",
        (secs + ser) * 1e3,
        h["points"].as_array().unwrap().len(),
        json.len()
    );
    // After: the request `?minutes=43200` (automatic step, default limit 2,000) from rollups.
    for format in [HistoryFormat::Points, HistoryFormat::Columns] {
        let req = HistoryRequest {
            minutes: 43_200,
            ..HistoryRequest::default()
        };
        let req = HistoryRequest { format, ..req };
        let mut best = f64::MAX;
        let mut body = Vec::new();
        let mut points = 0;
        for _ in 0..7 {
            let (bytes, secs) = time(|| {
                let v = engine.history_request(&req).unwrap();
                points = v["points"]
                    .as_array()
                    .or(v["timestamps"].as_array())
                    .map_or(0, Vec::len);
                serde_json::to_vec(&v).unwrap()
            });
            best = best.min(secs);
            body = bytes;
        }
        println!(
            "metrics history_30d_after_{}_ms={:.1} points={points} bytes={} (rollups, auto step, best of 7)",
            if format == HistoryFormat::Points { "points" } else { "columns" },
            best * 1e3,
            body.len()
        );
    }

    for (fmt, mins) in [
        (ExportFormat::Svg, 60),
        (ExportFormat::Png, 60),
        (ExportFormat::Svg, 43_200),
        (ExportFormat::Png, 43_200),
    ] {
        let (bytes, secs) = time(|| engine.export(fmt, mins).unwrap());
        println!(
            "metrics chart_{}_{}min_ms={:.1} bytes={}",
            fmt.extension(),
            mins,
            secs * 1e3,
            bytes.len()
        );
        if let Some(d) = &out_dir {
            let path = std::path::Path::new(d).join(format!("chart_{mins}.{}", fmt.extension()));
            microclaw_metrics::write_export_atomic(&path, &bytes).unwrap();
        }
    }
    let _ = clock;
}
