//! `heavy-reads`' loops against the real floor server on a loopback socket: the bridge reads
//! and the `health` probe are measured, the load stops on time, and an HTTP read the server
//! cannot answer (the floor speaks only WebSocket) is counted as an error, not a crash.

#![allow(clippy::unwrap_used)]

use microclaw_bench::floor;
use microclaw_bench::heavy_reads::{self, HeavyPlan, Read};
use std::time::{Duration, Instant};

async fn plan() -> HeavyPlan {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(floor::serve(listener));
    HeavyPlan {
        url: format!("http://{addr}/"),
        token: "any".into(),
        clients: 2,
        load: Duration::from_millis(600),
        history_minutes: 43_200,
        search: "project 777".into(),
        big_session: "bench-big".into(),
        big_limit: 1000,
        probe_gap: Duration::from_millis(1),
    }
}

#[tokio::test]
async fn the_load_is_bounded_and_every_kind_of_read_is_accounted_for() {
    let p = plan().await;
    assert!(p
        .history_url()
        .unwrap()
        .ends_with("/api/metrics/history?minutes=43200"));
    let http = reqwest::Client::new();
    let started = Instant::now();
    let r = heavy_reads::run_load(&p, &http).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the load stopped on time"
    );
    assert!(r.health.samples.len() > 10, "health was probed throughout");
    assert_eq!(r.health.errors, 0);
    let by = |k: Read| &r.reads[Read::ALL.iter().position(|x| *x == k).unwrap()];
    for k in [Read::Search, Read::ChatHistory] {
        assert!(!by(k).samples.is_empty(), "{} was measured", k.name());
        assert_eq!(by(k).errors, 0, "{}: {:?}", k.name(), by(k).first_error);
    }
    let h = by(Read::History);
    assert!(h.samples.is_empty(), "the floor serves no HTTP history");
    assert!(h.errors > 0 && h.first_error.is_some());
}

#[tokio::test]
async fn handshakes_are_each_timed_and_zero_clients_is_refused() {
    let mut p = plan().await;
    let hs = heavy_reads::handshakes(&p, 5).await.unwrap();
    assert_eq!(hs.len(), 5);
    assert!(hs
        .iter()
        .all(|d| *d > Duration::ZERO && *d < Duration::from_secs(5)));
    p.clients = 0;
    let e = heavy_reads::run_load(&p, &reqwest::Client::new())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("--clients"), "{e}");
}
