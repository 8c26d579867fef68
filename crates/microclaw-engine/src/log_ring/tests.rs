#![allow(clippy::unwrap_used)]

use super::*;
use microclaw_core::ManualClock;
use tracing_subscriber::layer::SubscriberExt;

fn filled(n: usize) -> Arc<LogRing> {
    let ring = LogRing::new(1000, 1 << 20);
    for i in 1..=n {
        ring.push(&format!("line {i}"));
    }
    ring
}

#[test]
fn lines_are_numbered_from_one_and_the_cursor_continues() {
    let ring = filled(3);
    let t = ring.tail(None, 500, 250_000);
    assert_eq!(t.lines, ["line 1", "line 2", "line 3"]);
    assert_eq!((t.cursor, t.truncated, t.reset), (4, false, false));
    assert_eq!(t.size, 3 * "line 1\n".len());
    assert_eq!(t.file, "memory");
    ring.push("line 4");
    let t2 = ring.tail(Some(t.cursor), 500, 250_000);
    assert_eq!(t2.lines, ["line 4"], "only the newer line");
    assert_eq!((t2.cursor, t2.reset), (5, false));
    let t3 = ring.tail(Some(t2.cursor), 500, 250_000);
    assert!(t3.lines.is_empty() && !t3.truncated && !t3.reset);
    assert_eq!(t3.cursor, 5);
}

#[test]
fn the_ring_keeps_its_line_and_byte_bounds() {
    let ring = LogRing::new(3, 1 << 20);
    for i in 1..=5 {
        ring.push(&format!("l{i}"));
    }
    let t = ring.tail(None, 500, 250_000);
    assert_eq!(t.lines, ["l3", "l4", "l5"]);
    let ring = LogRing::new(1000, 30);
    for i in 0..10 {
        ring.push(&format!("{i:09}")); // 10 bytes with the newline
    }
    let t = ring.tail(None, 500, 250_000);
    assert_eq!(t.size, 30);
    assert_eq!(t.lines, ["000000007", "000000008", "000000009"]);
    ring.set_limits(1000, 10);
    assert_eq!(ring.tail(None, 500, 250_000).lines, ["000000009"]);
}

#[test]
fn a_cursor_outside_the_ring_is_a_reset() {
    let ring = LogRing::new(3, 1 << 20);
    for i in 1..=10 {
        ring.push(&format!("l{i}"));
    }
    let stale = ring.tail(Some(2), 500, 250_000);
    assert!(stale.reset, "line 2 fell out of the ring");
    assert_eq!(stale.lines, ["l8", "l9", "l10"]);
    assert_eq!(stale.cursor, 11);
    let ahead = ring.tail(Some(99), 500, 250_000);
    assert!(ahead.reset, "a cursor from a previous process");
    assert_eq!(ahead.lines.len(), 3);
    let oldest = ring.tail(Some(8), 500, 250_000);
    assert!(!oldest.reset && oldest.lines.len() == 3);
    assert!(
        !ring.tail(Some(11), 500, 250_000).reset,
        "cursor = next is current"
    );
}

#[test]
fn limit_and_max_bytes_keep_the_newest_lines() {
    let ring = filled(10);
    let t = ring.tail(None, 2, 250_000);
    assert_eq!(t.lines, ["line 9", "line 10"]);
    assert!(t.truncated);
    assert_eq!(
        t.cursor, 11,
        "the cursor is past the newest line either way"
    );
    let t = ring.tail(Some(5), 500, 14);
    assert_eq!(t.lines, ["line 10"], "8 bytes fit, 8 + 7 do not");
    assert!(t.truncated && !t.reset);
    let t = ring.tail(None, 500, 1);
    assert!(t.lines.is_empty() && t.truncated);
}

#[test]
fn long_lines_are_cut_and_line_breaks_escaped() {
    let ring = LogRing::new(10, 1 << 20);
    ring.push(&"é".repeat(MAX_LINE_BYTES));
    ring.push("a\nb\r\nc");
    let t = ring.tail(None, 500, 1_000_000);
    assert!(
        t.lines[0].len() < MAX_LINE_BYTES + 40,
        "{}",
        t.lines[0].len()
    );
    assert!(t.lines[0].ends_with(&format!("…[cut {} bytes]", MAX_LINE_BYTES)));
    assert_eq!(t.lines[1], "a\\nb\\r\\nc");
}

#[test]
fn the_layer_formats_events_and_keeps_secrets_out() {
    let ring = LogRing::new(100, 1 << 20);
    let clock = Arc::new(ManualClock::new(1_709_251_199_007));
    let subscriber =
        tracing_subscriber::registry().with(LogRingLayer::new(ring.clone()).with_clock(clock));
    let key = "mk_0123456789abcdef0123456789abcdef";
    tracing::subscriber::with_default(subscriber, || {
        tracing::warn!(target: "microclaw_gateway::test", code = "x1", "login failed");
        tracing::info!(
            password = "hunter2",
            note = "two words",
            "key {key} rejected"
        );
        tracing::error!("connect to https://op:s3cret@h/x with Bearer abc.def");
    });
    let t = ring.tail(None, 500, 250_000);
    assert_eq!(
        t.lines[0],
        "2024-02-29T23:59:59.007Z WARN microclaw_gateway::test: login failed code=x1"
    );
    assert!(
        t.lines[1].ends_with(": key mk_*** rejected password=*** note=\"two words\""),
        "{}",
        t.lines[1]
    );
    assert!(
        t.lines[2].contains("https://***@h/x with Bearer ***"),
        "{}",
        t.lines[2]
    );
    let all = t.lines.join("\n");
    for secret in ["hunter2", &key[3..], "s3cret", "abc.def"] {
        assert!(!all.contains(secret), "{secret} leaked: {all}");
    }
}

#[test]
fn capture_feeds_only_its_own_ring() {
    let a = LogRing::new(10, 1 << 20);
    let b = LogRing::new(10, 1 << 20);
    a.capture(|| tracing::info!("for a"));
    assert_eq!(a.tail(None, 10, 10_000).lines.len(), 1);
    assert!(b.tail(None, 10, 10_000).lines.is_empty());
}
