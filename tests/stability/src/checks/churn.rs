//! Promise 4 (churn): 1,000 connect/disconnect cycles, half closing politely and half just
//! dropping the TCP connection, leave no growth in file descriptors or resident memory.

use crate::bridge::Conn;
use crate::cli;
use crate::env::Env;
use crate::procfs;
use crate::report::CheckResult;
use crate::server::{Server, StartOpts};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

const CYCLES: usize = 1000;
const WARMUP: usize = 100;
const AT_ONCE: usize = 8;
/// Allowed growth after the cycles (allocator caches and the like).
const FD_TOLERANCE: usize = 8;
const RSS_TOLERANCE_KB: u64 = 24 * 1024;

async fn cycles(addr: std::net::SocketAddr, token: &str, n: usize) -> Result<(), String> {
    let gate = Arc::new(Semaphore::new(AT_ONCE));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let (gate, token) = (gate.clone(), token.to_string());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            let mut c = Conn::connect(addr, &token, if i % 2 == 0 { 3 } else { 4 }).await?;
            if i % 2 == 0 {
                c.request("ping", json!({}), Duration::from_secs(10))
                    .await?;
                c.close().await;
            } else {
                drop(c); // abrupt: no close frame
            }
            Ok::<(), String>(())
        }));
    }
    let mut first_err = None;
    let mut errors = 0;
    for t in tasks {
        match tokio::time::timeout(Duration::from_secs(60), t).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => {
                errors += 1;
                first_err.get_or_insert(e);
            }
            _ => return Err("a connect/disconnect cycle hung".into()),
        }
    }
    match first_err {
        None => Ok(()),
        Some(e) => Err(format!("{errors}/{n} cycles failed, e.g. {e}")),
    }
}

/// Waits until the server counts only `expected` bridge connections (the ones it closed
/// were cleaned up), bounded.
async fn settle(probe: &mut Conn, expected: u64) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let h = probe.call("health", json!({})).await?;
        probe.events.clear();
        let n = h["connections"].as_u64().unwrap_or(u64::MAX);
        if n == expected {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("the server still counts {n} connections 15 s after the cycles (expected {expected})"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Catches: per-connection leaks — sockets never closed after an abrupt disconnect, tasks or
/// presence entries that outlive their connection, buffers that are never freed.
pub async fn run(env: &Env) -> CheckResult {
    let dir = env.data_dir("churn");
    let admin = cli::create_key(env, &dir, "churn-admin", "operator.admin").await?;
    let o =
        StartOpts::new("churn", &dir).set("MICROCLAW_AUTH__API_KEY_RATE_LIMIT_PER_MINUTE", 100000);
    let server = Server::start(env, &o).await?;
    let mut probe = Conn::connect(server.addr, &admin, 3).await?;
    let result = async {
        cycles(server.addr, &admin, WARMUP).await?;
        settle(&mut probe, 1).await?;
        let (fd0, rss0) = (procfs::fd_count(server.pid)?, procfs::rss_kb(server.pid)?);
        let t = Instant::now();
        cycles(server.addr, &admin, CYCLES).await?;
        let secs = t.elapsed().as_secs_f64();
        settle(&mut probe, 1).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (fd1, rss1) = (procfs::fd_count(server.pid)?, procfs::rss_kb(server.pid)?);
        let details = format!(
            "{CYCLES} cycles in {secs:.1} s; fds {fd0} → {fd1}; RSS {} → {} kB",
            rss0, rss1
        );
        if fd1 > fd0 + FD_TOLERANCE {
            return Err(format!(
                "file descriptors grew by {} (tolerance {FD_TOLERANCE}): {details}",
                fd1 - fd0
            ));
        }
        if rss1 > rss0 + RSS_TOLERANCE_KB {
            return Err(format!(
                "RSS grew by {} kB (tolerance {RSS_TOLERANCE_KB} kB): {details}",
                rss1 - rss0
            ));
        }
        Ok(details)
    }
    .await;
    probe.close().await;
    let _ = server.stop(Duration::from_secs(15)).await;
    result
}
