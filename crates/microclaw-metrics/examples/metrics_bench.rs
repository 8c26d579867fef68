//! Metrics benchmark: recording cost, summary over 30 days of minute history in a real
//! SQLite store, a 43,200-point history query, chart rendering.
//!
//! Run: `cargo run --release -p microclaw-metrics --example metrics_bench [-- OUT_DIR]`
//! (with OUT_DIR the rendered chart.svg / chart.png are written there).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Instant;

use microclaw_core::config::Synchronous;
use microclaw_core::{Config, ManualClock, SharedClock};
use microclaw_metrics::histogram::AtomicHistogram;
use microclaw_metrics::{Delta, ExportFormat, Metrics, MetricsEngine};
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
    let engine = MetricsEngine::new(metrics.clone(), store, shared, &cfg);

    let reps = 5;
    let (_, secs) = time(|| {
        for _ in 0..reps {
            std::hint::black_box(engine.summary());
        }
    });
    println!("metrics summary_30d_ms={:.1}", secs * 1e3 / reps as f64);
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

    let (h, secs) = time(|| engine.history(43_200, 60, 43_200).unwrap());
    println!(
        "metrics history_43200_points_ms={:.1} points={}",
        secs * 1e3,
        h["points"].as_array().unwrap().len()
    );
    let (json, secs) = time(|| serde_json::to_vec(&h).unwrap());
    println!(
        "metrics history_43200_serialize_ms={:.1} bytes={}",
        secs * 1e3,
        json.len()
    );

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
