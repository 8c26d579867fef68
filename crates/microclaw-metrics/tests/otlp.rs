#![allow(clippy::unwrap_used)]
//! OTLP/HTTP export against a real receiver on 127.0.0.1 (axum), decoding what arrives.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use common::*;
use microclaw_core::config::ObservabilityConfig;
use microclaw_metrics::otlp::queue::BatchQueue;
use microclaw_metrics::otlp::OtlpExporter;
use microclaw_metrics::CancellationToken;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point};
use parking_lot::Mutex;
use prost::Message;

#[derive(Clone, Default)]
struct Receiver {
    bodies: Arc<Mutex<Vec<Bytes>>>,
    hits: Arc<AtomicUsize>,
}

/// A receiver answering `statuses[i]` to the i-th request, then 200.
async fn start_receiver(statuses: Vec<u16>) -> (String, Receiver) {
    let rx = Receiver::default();
    let state = rx.clone();
    let statuses = Arc::new(statuses);
    let app = Router::new().route(
        "/v1/metrics",
        post(move |body: Bytes| {
            let state = state.clone();
            let statuses = statuses.clone();
            async move {
                let n = state.hits.fetch_add(1, Ordering::SeqCst);
                let code = statuses.get(n).copied().unwrap_or(200);
                if code == 200 {
                    state.bodies.lock().push(body);
                }
                StatusCode::from_u16(code).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), rx)
}

fn cfg(endpoint: &str) -> ObservabilityConfig {
    ObservabilityConfig {
        otlp_enabled: true,
        otlp_endpoint: endpoint.into(),
        otlp_retry_base_ms: 20,
        otlp_retry_max_ms: 80,
        otlp_timeout_ms: 2000,
        otlp_export_interval_seconds: 1,
        ..ObservabilityConfig::default()
    }
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn metric_int(req: &ExportMetricsServiceRequest, name: &str) -> Option<i64> {
    let m = req.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .find(|m| m.name == name)?;
    let points = match m.data.as_ref()? {
        Data::Sum(s) => &s.data_points,
        Data::Gauge(g) => &g.data_points,
        _ => return None,
    };
    match points.first()?.value? {
        number_data_point::Value::AsInt(v) => Some(v),
        number_data_point::Value::AsDouble(v) => Some(v as i64),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_arrive_with_our_metric_names() {
    let (url, rx) = start_receiver(vec![]).await;
    let r = rig();
    runs(&r.metrics, 4, "final", 900);
    r.metrics.record_http("/api/send", 200, 10);
    let exp = OtlpExporter::new(r.metrics.clone(), &cfg(&url)).unwrap();
    let stop = CancellationToken::new();
    let task = exp.spawn(stop.clone());
    exp.enqueue_now();
    wait_for("one exported batch", || r.metrics.otlp_counts().0 >= 1).await;
    let body = rx.bodies.lock()[0].clone();
    let req = ExportMetricsServiceRequest::decode(body).unwrap();
    let names: Vec<String> = req.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .map(|m| m.name.clone())
        .collect();
    for n in [
        "microclaw.request_ok",
        "microclaw.http_requests",
        "microclaw.request_latency",
        "microclaw.active_runs",
    ] {
        assert!(names.contains(&n.to_string()), "{n} missing from {names:?}");
    }
    assert_eq!(metric_int(&req, "microclaw.request_ok"), Some(4));
    let resource = req.resource_metrics[0].resource.as_ref().unwrap();
    assert!(resource
        .attributes
        .iter()
        .any(|kv| kv.key == "service.name"));
    let status = exp.status_json();
    assert_eq!(status["exported"], 1);
    assert!(status["last_success_ms"].is_number());
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_is_retried_until_the_batch_gets_through() {
    let (url, rx) = start_receiver(vec![503, 503]).await;
    let r = rig();
    let exp = OtlpExporter::new(r.metrics.clone(), &cfg(&url)).unwrap();
    let stop = CancellationToken::new();
    let _task = exp.spawn(stop.clone());
    exp.enqueue_now();
    wait_for("the batch after retries", || r.metrics.otlp_counts().0 == 1).await;
    let (exported, dropped, retries) = r.metrics.otlp_counts();
    assert_eq!(
        (exported, dropped, retries),
        (1, 0, 2),
        "two 503s, then 200 on the third attempt"
    );
    assert_eq!(rx.hits.load(Ordering::SeqCst), 3);
    assert!(exp.status_json()["last_error"]
        .as_str()
        .unwrap()
        .contains("503"));
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4xx_other_than_429_is_not_retried() {
    let (url, rx) = start_receiver(vec![400]).await;
    let r = rig();
    let exp = OtlpExporter::new(r.metrics.clone(), &cfg(&url)).unwrap();
    let stop = CancellationToken::new();
    let _task = exp.spawn(stop.clone());
    exp.enqueue_now();
    wait_for("the batch to be dropped", || r.metrics.otlp_counts().1 == 1).await;
    assert_eq!(r.metrics.otlp_counts(), (0, 1, 0));
    assert_eq!(rx.hits.load(Ordering::SeqCst), 1);
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_endpoint_drops_batches_while_recording_stays_fast() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead); // bound, then closed: connections are refused
    let r = rig();
    let mut c = cfg(&url);
    c.otlp_retry_max_attempts = 2;
    let exp = OtlpExporter::new(r.metrics.clone(), &c).unwrap();
    let stop = CancellationToken::new();
    let _task = exp.spawn(stop.clone());
    for _ in 0..3 {
        exp.enqueue_now();
    }
    let started = Instant::now();
    for i in 0..200_000u64 {
        r.metrics.record_http("/api/send", 200, i);
    }
    let per_event = started.elapsed() / 200_000;
    assert!(
        per_event < Duration::from_micros(2),
        "recording took {per_event:?} per event"
    );
    wait_for("dropped batches", || r.metrics.otlp_counts().1 >= 3).await;
    let (exported, _, retries) = r.metrics.otlp_counts();
    assert_eq!(exported, 0);
    assert!(
        retries >= 3,
        "each batch was retried once before being dropped"
    );
    let err = exp.status_json()["last_error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(err.contains("/v1/metrics"), "{err}");
    stop.cancel();
}

#[test]
fn a_full_queue_drops_the_oldest_batch() {
    let q = BatchQueue::new(8);
    let dropped: u64 = (0u8..20).map(|i| q.push(vec![i])).sum();
    assert_eq!(dropped, 12);
    let kept: Vec<u8> = std::iter::from_fn(|| q.try_pop()).map(|b| b[0]).collect();
    assert_eq!(
        kept,
        (12u8..20).collect::<Vec<_>>(),
        "the newest 8 batches survive, in order"
    );
}

#[test]
fn a_burst_into_a_small_queue_counts_drops() {
    let r = rig();
    let mut c = cfg("http://127.0.0.1:9");
    c.otlp_queue_capacity = 8;
    let exp = OtlpExporter::new(r.metrics.clone(), &c).unwrap(); // not spawned: nothing drains
    for _ in 0..20 {
        exp.enqueue_now();
    }
    assert_eq!(exp.queue_len(), 8);
    assert_eq!(r.metrics.otlp_counts().1, 12);
}

#[test]
fn bad_endpoints_and_headers_are_refused_with_reasons() {
    let r = rig();
    for bad in ["", "ftp://x", "https://"] {
        let err = OtlpExporter::new(r.metrics.clone(), &cfg(bad))
            .err()
            .unwrap();
        assert!(err.message.contains("expected"), "{err}");
    }
    let mut c = cfg("http://127.0.0.1:4318");
    c.otlp_headers.insert("bad header".into(), "v".into());
    assert!(OtlpExporter::new(r.metrics.clone(), &c).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_exports_on_its_interval_and_flushes_on_shutdown() {
    let (url, rx) = start_receiver(vec![]).await;
    let config = microclaw_core::Config {
        observability: cfg(&url),
        ..Default::default()
    };
    let r = rig_with(config);
    runs(&r.metrics, 2, "final", 100);
    let stop = CancellationToken::new();
    let task = r.engine.spawn(stop.clone());
    wait_for("an interval export", || !rx.bodies.lock().is_empty()).await;
    assert_eq!(
        r.engine.summary()["otlp"]["exported"]
            .as_u64()
            .map(|n| n >= 1),
        Some(true)
    );
    assert!(
        r.store
            .metrics_history_range(0, i64::MAX)
            .unwrap()
            .is_empty(),
        "nothing flushed yet (10 s interval)"
    );
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    let rows = r.store.metrics_history_range(0, i64::MAX).unwrap();
    assert_eq!(rows.len(), 1, "shutdown flushes the live minute");
    assert!(rows[0].1.contains("\"request_ok\":2"));
}

/// `http://host:port` → `http://user:s3cret@host:port`.
fn with_userinfo(url: &str) -> String {
    url.replacen("http://", "http://otlp-user:s3cret-pw@", 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_userinfo_never_shows_in_status_or_errors() {
    // An answering endpoint: the first attempt gets a 503 (an HTTP error message).
    let (url, rx) = start_receiver(vec![503]).await;
    let r = rig();
    let exp = OtlpExporter::new(r.metrics.clone(), &cfg(&with_userinfo(&url))).unwrap();
    let stop = CancellationToken::new();
    let _task = exp.spawn(stop.clone());
    exp.enqueue_now();
    wait_for("the batch after one retry", || {
        r.metrics.otlp_counts().0 == 1
    })
    .await;
    assert_eq!(
        rx.hits.load(Ordering::SeqCst),
        2,
        "the credentials still work"
    );
    let status = exp.status_json().to_string();
    assert!(
        !status.contains("s3cret-pw") && !status.contains("otlp-user"),
        "{status}"
    );
    assert!(
        status.contains("***@127.0.0.1"),
        "the endpoint is shown redacted: {status}"
    );
    assert!(
        status.contains("503"),
        "the error is still useful: {status}"
    );
    stop.cancel();

    // A refused connection: reqwest's own message quotes the URL.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = with_userinfo(&format!("http://{}", dead.local_addr().unwrap()));
    drop(dead);
    let mut c = cfg(&dead_url);
    c.otlp_retry_max_attempts = 1;
    let exp = OtlpExporter::new(r.metrics.clone(), &c).unwrap();
    let stop = CancellationToken::new();
    let _task = exp.spawn(stop.clone());
    exp.enqueue_now();
    wait_for("the refused batch", || {
        exp.status_json()["last_error"].is_string()
    })
    .await;
    let err = exp.status_json()["last_error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(err.contains("POST http://***@127.0.0.1"), "{err}");
    assert!(
        !err.contains("s3cret-pw") && !err.contains("otlp-user"),
        "{err}"
    );
    stop.cancel();

    // A configuration error, and the engine's status (`otlp` of summary/status).
    let bad = OtlpExporter::new(r.metrics.clone(), &cfg("ftp://otlp-user:s3cret-pw@h"))
        .err()
        .unwrap();
    assert!(!bad.message.contains("s3cret-pw"), "{bad}");
    assert!(bad.message.contains("expected"), "{bad}");
    let config = microclaw_core::Config {
        observability: cfg(&with_userinfo(&url)),
        ..Default::default()
    };
    let r2 = rig_with(config);
    let shown = r2.engine.summary()["otlp"].to_string();
    assert!(!shown.contains("s3cret-pw"), "{shown}");
}
