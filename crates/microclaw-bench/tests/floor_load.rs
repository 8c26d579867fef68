//! The load shapes against the real floor server on a loopback socket: each one must see the
//! server's answers and count them, so a broken client or server fails here, not in a bench run.

#![allow(clippy::unwrap_used)]

use microclaw_bench::idle::{self, IdlePlan};
use microclaw_bench::pipelined::{self, PipelinedPlan};
use microclaw_bench::startup::{self, StartupPlan};
use microclaw_bench::{client, floor, sequential};
use std::time::Duration;

async fn floor_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(floor::serve(listener));
    format!("ws://{addr}/")
}

#[tokio::test]
async fn sequential_round_trips_are_all_measured() {
    let url = floor_url().await;
    let mut ws = client::connect(&url, "any", Duration::from_secs(5))
        .await
        .unwrap();
    let r = sequential::run(&mut ws, "health", None, 10, 200, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(r.latency.count, 200, "warm-up round trips are not sampled");
    assert_eq!(r.errors, 0, "the floor answers ok:true to everything");
    assert!(r.latency.p50_us > 0.0 && r.latency.p50_us <= r.latency.p99_us);
}

#[tokio::test]
async fn pipelined_load_counts_answers_across_connections() {
    let url = floor_url().await;
    let plan = PipelinedPlan {
        url,
        token: "any".into(),
        method: "sessions.list".into(),
        params: Some(serde_json::json!({"limit": 50})),
        conns: 2,
        depth: 8,
        duration: Duration::from_millis(300),
        server_pid: Some(std::process::id()),
    };
    let r = pipelined::run(&plan).await.unwrap();
    assert!(
        r.ok > 16,
        "more than one pipe-full must come back in 300 ms, got {}",
        r.ok
    );
    assert_eq!(r.errors, 0);
    assert!(r.rps() > 0.0);
    assert!(
        r.server_cpu_secs.is_some_and(|s| s >= 0.0),
        "{:?}",
        r.server_cpu_secs
    );
}

#[tokio::test]
async fn idle_connections_are_held_and_the_server_memory_read() {
    let url = floor_url().await;
    let plan = IdlePlan {
        url,
        token: "any".into(),
        count: 50,
        concurrency: 8,
        settle: Duration::from_millis(100),
        // The floor runs inside this test process, so its memory is ours.
        server_pid: Some(std::process::id()),
        max_open: Duration::from_secs(20),
    };
    let r = idle::run(&plan).await.unwrap();
    assert_eq!((r.opened, r.failed, r.still_open), (50, 0, 50));
    assert!(!r.timed_out);
    assert!(r.rss_held_kb.unwrap() > 0);
}

#[tokio::test]
async fn a_refused_connect_is_reported_not_hidden() {
    // Nothing listens on a just-closed port: connecting must fail with an error.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", l.local_addr().unwrap());
    drop(l);
    assert!(client::connect(&url, "k", Duration::from_secs(2))
        .await
        .is_err());
}

#[tokio::test]
async fn startup_time_is_measured_from_spawn_to_the_first_answer() {
    // The floor-server binary prints a `listening on ws://…` line like `microclaw start` does.
    let plan = StartupPlan {
        program: env!("CARGO_BIN_EXE_floor-server").into(),
        args: vec!["--port".into(), "0".into()],
        env: Vec::new(),
        token: "any".into(),
        timeout: Duration::from_secs(20),
    };
    let s = startup::measure_once(&plan).await.unwrap();
    assert!(
        s.port_line <= s.first_rpc,
        "the answer comes after the port line"
    );
    assert!(s.first_rpc < Duration::from_secs(20));
    let bad = StartupPlan {
        program: "/bin/true".into(),
        args: Vec::new(),
        ..plan
    };
    assert!(
        startup::measure_once(&bad).await.is_err(),
        "no listening line → error"
    );
}

#[tokio::test]
async fn opening_idle_connections_stops_at_the_deadline() {
    // A listener that never answers the upgrade: no handshake can finish, so the deadline ends
    // the opening phase instead of the run hanging.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", silent.local_addr().unwrap());
    let plan = IdlePlan {
        url,
        token: "any".into(),
        count: 5,
        concurrency: 5,
        settle: Duration::ZERO,
        server_pid: None,
        max_open: Duration::from_millis(300),
    };
    let started = std::time::Instant::now();
    let r = idle::run(&plan).await.unwrap();
    assert!(r.timed_out);
    assert_eq!(r.opened, 0);
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(silent);
}
