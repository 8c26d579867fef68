//! Promise 4 (slow clients): a client that stops reading is closed with 1013 once its outbound
//! queue passes `maxBufferedBytes`, the server's memory stays bounded meanwhile (VmRSS), and
//! readers keep getting their events and a probe client keeps its latency.

use super::canary::Canary;
use crate::bridge::{next_frame, Conn, Frame};
use crate::cli;
use crate::env::Env;
use crate::procfs;
use crate::report::CheckResult;
use crate::server::{Server, StartOpts};
use serde_json::json;
use std::time::{Duration, Instant};

const MAX_BUFFERED: usize = 64 * 1024;
const PROBE_P95_LIMIT_MS: u64 = 300;
const PROBE_MAX_LIMIT_MS: u64 = 2000;

/// A client that reads everything as it comes; returns how many chat events it got, or why
/// it was hurt (closed by the server, a ping that failed at the end).
fn spawn_reader(
    mut conn: Conn,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<Result<u64, String>> {
    tokio::spawn(async move {
        let mut chats = 0u64;
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                f = next_frame(&mut conn.ws, Duration::from_secs(60)) => match f {
                    Ok(Frame::Json(v)) if v["event"] == "chat" => chats += 1,
                    Ok(Frame::Closed(code)) => return Err(format!("closed by the server ({code:?})")),
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        conn.request("ping", json!({}), Duration::from_secs(10))
            .await?;
        Ok(chats)
    })
}

/// Polls `health` until fewer than `before` connections are counted; false after `limit`.
async fn wait_for_fewer_connections(
    watch: &mut Conn,
    before: u64,
    limit: Duration,
) -> Result<bool, String> {
    let deadline = Instant::now() + limit;
    loop {
        if connections(watch).await? < before {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn connections(watch: &mut Conn) -> Result<u64, String> {
    let h = watch.call("health", json!({})).await?;
    watch.events.clear();
    h["connections"]
        .as_u64()
        .ok_or_else(|| format!("health has no connections count: {h}"))
}

/// The gateway's log line when a connection's outbound queue overflows (it then closes 1013).
const OVERFLOW_LOG: &str = "outbound queue full";
/// How far the server's RSS may rise above its baseline while one client is stuck: the queue
/// is capped at 64 KiB and a healthy run grows by ~3 MB (runs, transcripts), so 32 MB leaves
/// room for allocator noise while a queue that buffers the broadcasts without limit fails.
const RSS_GROWTH_LIMIT_KB: u64 = 32 * 1024;

/// Catches: an unbounded per-connection queue (server memory grows with a stuck client), a
/// full queue that blocks the broadcast for everyone, a slow client never dropped, or dropped
/// without the 1013 close code (or with another one).
pub async fn run(env: &Env) -> CheckResult {
    let dir = env.data_dir("slow-reader");
    let admin = cli::create_key(env, &dir, "slow-admin", "operator.admin").await?;
    let o = StartOpts::new("slow-reader", &dir)
        .set("MICROCLAW_SERVER__MAX_BUFFERED_BYTES", MAX_BUFFERED)
        .set("MICROCLAW_SESSIONS__MAX_QUEUED_PER_SESSION", 16)
        .watch_stderr(OVERFLOW_LOG);
    let server = Server::start(env, &o).await?;
    let addr = server.addr;
    let mut watch = Conn::connect(addr, &admin, 3).await?;
    let mut driver = Conn::connect(addr, &admin, 3).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut readers = Vec::new();
    for _ in 0..3 {
        readers.push(spawn_reader(
            Conn::connect(addr, &admin, 4).await?,
            stop_rx.clone(),
        ));
    }
    let base = Canary::start(addr, &admin, Duration::from_millis(50)).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let base = base.finish().await?;
    // Connected, hello read, then not read until the server says it overflowed; a tiny
    // receive buffer so the kernel does not absorb megabytes first.
    let stuck = Conn::connect_with(addr, &admin, 4, Some(4096)).await?;
    let canary = Canary::start(addr, &admin, Duration::from_millis(50)).await?;
    let before = connections(&mut watch).await?;
    let rss0 = procfs::rss_kb(server.pid)?;
    let mut rss_peak = rss0;
    // Broadcast chat deltas: long /slow runs plus big /echo replies.
    for i in 0..4 {
        driver
            .call(
                "chat.send",
                json!({"sessionKey": format!("slow-{i}"), "message": "/slow 8"}),
            )
            .await?;
    }
    let text = "word ".repeat(3000);
    let started = Instant::now();
    let mut overflow = None;
    let mut n = 0;
    while started.elapsed() < Duration::from_secs(30) {
        n += 1;
        driver.call("chat.send", json!({"sessionKey": format!("echo-{}", n % 8), "message": format!("/echo {text}")})).await?;
        driver.events.clear();
        tokio::time::sleep(Duration::from_millis(100)).await;
        rss_peak = rss_peak.max(procfs::rss_kb(server.pid)?);
        if server.stderr_hits() > 0 {
            overflow = Some((started.elapsed(), "logged"));
            break;
        }
        if connections(&mut watch).await? < before {
            overflow = Some((started.elapsed(), "connection count fell, no log line"));
            break;
        }
    }
    let mut failures = Vec::new();
    let Some((dropped_after, seen)) = overflow else {
        let rss = procfs::rss_kb(server.pid).unwrap_or(0);
        let _ = server.stop(Duration::from_secs(15)).await;
        return Err(format!("the never-reading client was still connected after {n} big broadcasts in 30 s (maxBufferedBytes {MAX_BUFFERED}); RSS {} → {} MB", rss0 / 1024, rss / 1024));
    };
    // The stuck client reads now (the server tries to deliver the close for a few seconds):
    // what is buffered, then the end, which must be a close frame with 1013.
    let mut ws = stuck.ws;
    let mut end = None;
    for _ in 0..100_000 {
        match next_frame(&mut ws, Duration::from_secs(10)).await {
            Ok(Frame::Closed(code)) => {
                end = Some(code);
                break;
            }
            Ok(_) => {}
            Err(e) => {
                failures.push(format!("the dropped client's stream did not end: {e}"));
                break;
            }
        }
    }
    match end {
        Some(Some(1013)) => {}
        Some(Some(code)) => failures.push(format!(
            "the slow client was closed with {code}, expected 1013"
        )),
        Some(None) => failures.push(
            "the slow client's stream ended without a close frame (EOF or reset), expected close 1013"
                .to_string(),
        ),
        None if failures.is_empty() => failures.push(
            "the slow client's stream did not end after 100,000 frames, expected close 1013"
                .to_string(),
        ),
        None => {}
    }
    drop(ws);
    let gone = wait_for_fewer_connections(&mut watch, before, Duration::from_secs(10)).await?;
    if !gone {
        failures.push(format!(
            "the server still counted {before} connections 10 s after the slow client was closed"
        ));
    }
    let rss1 = procfs::rss_kb(server.pid)?;
    rss_peak = rss_peak.max(rss1);
    let growth = rss_peak.saturating_sub(rss0);
    if growth > RSS_GROWTH_LIMIT_KB {
        failures.push(format!(
            "server RSS rose {} MB above its baseline while one client was stuck (limit {} MB): the outbound queue is not bounded",
            growth / 1024,
            RSS_GROWTH_LIMIT_KB / 1024
        ));
    }
    let _ = stop_tx.send(true);
    for (i, r) in readers.into_iter().enumerate() {
        match tokio::time::timeout(Duration::from_secs(20), r).await {
            Ok(Ok(Ok(events))) if events > 0 => {}
            Ok(Ok(Ok(_))) => failures.push(format!("reader {i} got no chat events")),
            Ok(Ok(Err(e))) => failures.push(format!("reader {i} was hurt: {e}")),
            _ => failures.push(format!("reader {i} hung")),
        }
    }
    let stats = canary.finish().await;
    let _ = server.stop(Duration::from_secs(15)).await;
    let (p95, max) = match stats {
        Ok(s) => (s.quantile(0.95), s.max()),
        Err(e) => {
            failures.push(e);
            (0, 0)
        }
    };
    let limit = PROBE_P95_LIMIT_MS.max(base.quantile(0.95) * 3);
    if p95 > limit || max > PROBE_MAX_LIMIT_MS {
        failures.push(format!("probe latency p95 {p95} ms / max {max} ms while the slow client was stuck (limits {limit}/{PROBE_MAX_LIMIT_MS} ms; idle p95 {} ms)", base.quantile(0.95)));
    }
    let details = format!(
        "overflow after {:.1} s / {n} broadcasts ({seen}; close {:?}); probe p95 {p95} ms (idle {} ms) max {max} ms; RSS {} → peak {} → {} MB (limit +{} MB)",
        dropped_after.as_secs_f64(), end.flatten(), base.quantile(0.95), rss0 / 1024, rss_peak / 1024, rss1 / 1024, RSS_GROWTH_LIMIT_KB / 1024
    );
    if failures.is_empty() {
        Ok(details)
    } else {
        Err(format!("{} ({details})", failures.join("; ")))
    }
}
