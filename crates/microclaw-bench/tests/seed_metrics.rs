//! The metrics-history seeder against a real temp database, read back through the metrics
//! crate's decoder: one row per minute, ending at the minute before "now", each a valid delta.

#![allow(clippy::unwrap_used)]

use microclaw_bench::seed::db_path_in;
use microclaw_bench::seed_metrics::{minute_delta, seed_metrics};
use microclaw_core::config::Synchronous;
use microclaw_metrics::aggregate::MINUTE_MS;
use microclaw_metrics::history::read_rows;
use microclaw_store::Store;

/// 2024-01-31 00:00:30 UTC: half a minute into a minute.
const NOW: i64 = 1_706_659_230_000;

#[test]
fn a_day_of_minutes_reads_back_as_decodable_deltas_ending_before_now() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_path_in(dir.path());
    let r = seed_metrics(&db, 1440, NOW).unwrap();
    let this_minute = NOW - NOW % MINUTE_MS;
    assert_eq!(r.minutes, 1440);
    assert_eq!(r.last_bucket_ms, this_minute - MINUTE_MS);
    assert_eq!(r.first_bucket_ms, this_minute - 1440 * MINUTE_MS);

    let store = Store::open(&db, Synchronous::Normal).unwrap();
    let rows = read_rows(&store, 0, i64::MAX).unwrap();
    assert_eq!(
        rows.len(),
        1440,
        "one decodable row per minute, none skipped"
    );
    assert_eq!(rows[0].0, r.first_bucket_ms);
    assert_eq!(rows[1439].0, r.last_bucket_ms);
    assert!(rows.windows(2).all(|w| w[1].0 - w[0].0 == MINUTE_MS));
    let requests: u64 = rows.iter().map(|(_, d)| d.http_requests).sum();
    assert_eq!(requests, 40 * 1440);
    let errors: u64 = rows.iter().map(|(_, d)| d.request_error).sum();
    assert_eq!(errors, (0..1440).filter(|m| m % 50 == 0).count() as u64);
    assert_eq!(
        rows[7].1,
        minute_delta(7),
        "the row is the delta that was written"
    );
    assert!(!rows[0].1.request_latency_ms.is_empty());
    store.close();
}

#[test]
fn out_of_range_minute_counts_are_refused_with_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_path_in(dir.path());
    for bad in [0, 43_201] {
        let e = seed_metrics(&db, bad, NOW).unwrap_err().to_string();
        assert!(
            e.contains(&bad.to_string()) && e.contains("1..=43200"),
            "{e}"
        );
    }
}
