//! Promise 4 (load): 2,000 concurrent bridge connections, all of them receiving ticks, while a
//! probe client's `health` round trips stay short.

use super::canary::Canary;
use crate::bridge::Conn;
use crate::cli;
use crate::env::Env;
use crate::http::Http;
use crate::procfs;
use crate::report::CheckResult;
use crate::server::{Server, StartOpts};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::Message;

const CONNECTIONS: usize = 2000;
const OPENING_AT_ONCE: usize = 50;
/// Ramp-up bound: 2,000 handshakes take a few seconds when nothing is wrong.
const RAMP_LIMIT: Duration = Duration::from_secs(60);
const TICK_MS: u64 = 1000;
/// How long the ticks are counted with every connection open.
const HOLD: Duration = Duration::from_secs(5);
const PROBE_P95_LIMIT_MS: u64 = 500;
const PROBE_MAX_LIMIT_MS: u64 = 2000;

/// Catches: a connection cap below 2,000 (fd limits, accept backlog), per-connection work
/// that starves the tick timers, broadcast fan-out that cannot keep up, and latency collapse
/// for a request/response client once many sockets are open.
pub async fn run(env: &Env) -> CheckResult {
    let dir = env.data_dir("load");
    let admin = cli::create_key(env, &dir, "load-admin", "operator.admin").await?;
    let o = StartOpts::new("load", &dir)
        .set("MICROCLAW_SERVER__TICK_INTERVAL_MS", TICK_MS)
        .set("MICROCLAW_AUTH__API_KEY_RATE_LIMIT_PER_MINUTE", 100000);
    let server = Server::start(env, &o).await?;
    let rss0 = procfs::rss_kb(server.pid)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let ticks: Arc<Vec<AtomicU64>> =
        Arc::new((0..CONNECTIONS).map(|_| AtomicU64::new(0)).collect());
    let gate = Arc::new(Semaphore::new(OPENING_AT_ONCE));
    let t_open = Instant::now();
    let mut opened = Vec::with_capacity(CONNECTIONS);
    for i in 0..CONNECTIONS {
        let (gate, admin, ticks, mut stop) =
            (gate.clone(), admin.clone(), ticks.clone(), stop_rx.clone());
        let addr = server.addr;
        opened.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            if *stop.borrow() {
                return Ok(()); // the check already gave up on the ramp
            }
            let proto = if i % 10 == 0 { 4 } else { 3 };
            let conn = Conn::connect(addr, &admin, proto).await?;
            drop(permit);
            let mut ws = conn.ws;
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    msg = ws.next() => match msg {
                        Some(Ok(Message::Text(t))) => {
                            // The event name sits in the first bytes whatever the key order;
                            // presence frames can be large, so look no further.
                            let head = t.as_str().get(..64).unwrap_or(t.as_str());
                            if head.contains("\"event\":\"tick\"") {
                                ticks[i].fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Some(Ok(Message::Close(c))) => {
                            let code = c.map(|c| u16::from(c.code));
                            return Err::<(), String>(format!("closed by the server with {code:?}"));
                        }
                        Some(Ok(_)) => {}
                        _ => return Err::<(), String>("dropped by the server".into()),
                    }
                }
            }
            let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
            Ok(())
        }));
    }
    // Wait until every connection is open (or failed), bounded. The count comes over HTTP:
    // a bridge probe would queue behind the presence events.
    let http = Http::new(&server.http())?;
    let deadline = Instant::now() + RAMP_LIMIT;
    let mut last_report = Instant::now();
    let connected = loop {
        let h = http.get("/api/health", None).await?;
        let n = h.json["connections"].as_u64().unwrap_or(0);
        let ended = opened.iter().filter(|t| t.is_finished()).count();
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "    load: {n} connections open, {ended} ended, after {:.0} s",
                t_open.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
        if n as usize >= CONNECTIONS || ended > 0 || Instant::now() > deadline {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let open_secs = t_open.elapsed().as_secs_f64();
    let mut failures = Vec::new();
    if connected < CONNECTIONS as u64 {
        failures.push(format!(
            "only {connected}/{CONNECTIONS} connections open after {open_secs:.0} s"
        ));
    }
    // With everything open: ticks reach every connection and a probe keeps its latency.
    let stats = if failures.is_empty() {
        let before: Vec<u64> = ticks.iter().map(|t| t.load(Ordering::Relaxed)).collect();
        let stats = match Canary::start(server.addr, &admin, Duration::from_millis(100)).await {
            Ok(canary) => {
                tokio::time::sleep(HOLD).await;
                canary.finish().await
            }
            Err(e) => Err(format!("probe client: {e}")),
        };
        let starved = ticks
            .iter()
            .zip(&before)
            .filter(|(t, b)| t.load(Ordering::Relaxed) < *b + 2)
            .count();
        if starved > 0 {
            failures.push(format!("{starved} connections got fewer than 2 ticks in {HOLD:?} (tick every {TICK_MS} ms)"));
        }
        Some(stats)
    } else {
        None
    };
    let rss1 = procfs::rss_kb(server.pid).unwrap_or(0);
    let _ = stop_tx.send(true);
    let mut ended: std::collections::BTreeMap<String, usize> = Default::default();
    let join_deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for t in opened {
        let abort = t.abort_handle();
        match tokio::time::timeout_at(join_deadline, t).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => *ended.entry(e).or_default() += 1,
            _ => {
                abort.abort();
                *ended
                    .entry("still connecting or hung after the test".into())
                    .or_default() += 1;
            }
        }
    }
    if !ended.is_empty() {
        failures.push(format!("connections ended early: {ended:?}"));
    }
    let _ = server.stop(Duration::from_secs(20)).await;
    let (p95, max) = match stats {
        Some(Ok(s)) => (s.quantile(0.95), s.max()),
        Some(Err(e)) => {
            failures.push(e);
            (0, 0)
        }
        None => (0, 0),
    };
    if p95 > PROBE_P95_LIMIT_MS || max > PROBE_MAX_LIMIT_MS {
        failures.push(format!("health round trip p95 {p95} ms / max {max} ms with {CONNECTIONS} open (limits {PROBE_P95_LIMIT_MS}/{PROBE_MAX_LIMIT_MS} ms)"));
    }
    let per_conn = rss1.saturating_sub(rss0) / CONNECTIONS as u64;
    let details = format!("{connected} open in {open_secs:.1} s; health p95 {p95} ms max {max} ms; RSS {} → {} MB (~{per_conn} kB/conn)", rss0 / 1024, rss1 / 1024);
    if failures.is_empty() {
        Ok(details)
    } else {
        Err(format!("{} ({details})", failures.join("; ")))
    }
}
