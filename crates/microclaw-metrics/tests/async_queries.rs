#![allow(clippy::unwrap_used)]
//! The async forms run the heavy work off the runtime: on a single-threaded runtime, a ticker
//! task keeps ticking while a 30-day minute-resolution history (the heaviest query) runs.
mod common;

use std::time::{Duration, Instant};

use common::*;
use microclaw_metrics::delta::Delta;
use microclaw_metrics::{ExportFormat, HistoryFormat, HistoryRequest};

#[test]
fn heavy_queries_never_block_the_runtime_thread() {
    let r = rig();
    let now = T0 + 30 * 1440 * MIN;
    let rows: Vec<(i64, String)> = (0..43_200)
        .map(|m| {
            let d = Delta {
                http_requests: 3,
                request_ok: 1,
                ..Delta::default()
            };
            (now - 43_200 * MIN + m * MIN, d.to_json())
        })
        .collect();
    r.store.metrics_history_put(&rows).unwrap();
    r.clock.set_ms(now);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let engine = r.engine.clone();
    rt.block_on(async move {
        let ticker = tokio::spawn(async {
            let mut worst = Duration::ZERO;
            let mut last = Instant::now();
            for _ in 0..400 {
                tokio::time::sleep(Duration::from_millis(2)).await;
                worst = worst.max(last.elapsed());
                last = Instant::now();
            }
            worst
        });
        // Minute steps over 30 days: a scan of every minute row (no rollup fits a 60 s step).
        let req = HistoryRequest {
            minutes: 43_200,
            step_seconds: Some(60),
            limit: 43_200,
            format: HistoryFormat::Points,
        };
        let started = Instant::now();
        let body = engine.history_async(req).await.unwrap();
        let took = started.elapsed();
        assert_eq!(body["points"].as_array().unwrap().len(), 43_200);
        let summary = engine.summary_async().await;
        assert_eq!(summary["ok"], true);
        assert_eq!(summary["slo"]["request_success_rate"]["value"], 1.0);
        let csv = engine.export_async(ExportFormat::Csv, 60).await.unwrap();
        assert!(String::from_utf8(csv).unwrap().starts_with("timestamp"));
        let bad = req_with_step(90);
        assert!(engine.history_async(bad).await.is_err());
        let worst = ticker.await.unwrap();
        assert!(
            took > Duration::from_millis(40),
            "the query must be heavy enough to show blocking (took {took:?})"
        );
        assert!(
            worst < took / 2,
            "the runtime thread stalled {worst:?} during a {took:?} query"
        );
    });
}

fn req_with_step(step: u32) -> HistoryRequest {
    HistoryRequest {
        step_seconds: Some(step),
        ..HistoryRequest::default()
    }
}
