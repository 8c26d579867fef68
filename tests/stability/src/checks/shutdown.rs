//! Promise 5: SIGTERM under load. Every client gets `shutdown`, in-flight runs end `aborted`,
//! metrics are flushed, and the process exits 0 (printing `stopped`) within the grace period
//! plus a margin.

use crate::bridge::{chat_state, is_terminal, Conn};
use crate::cli;
use crate::env::Env;
use crate::http::Http;
use crate::report::CheckResult;
use crate::server::{Server, StartOpts};
use serde_json::json;
use std::collections::HashSet;
use std::time::{Duration, Instant};

const GRACE_MS: u64 = 2000;
/// Process start-up of the stop path, closing sockets, the final flush and the db close.
const MARGIN_MS: u64 = 3000;
const FINISHED_RUNS: usize = 10;
const SLOW_RUNS: usize = 3;

/// Catches: a stop that hangs on open sockets or running agents, clients cut off without
/// the `shutdown` event, runs left `running` forever, and metrics lost because the final
/// flush was skipped (the flush interval here is 300 s, so only the shutdown flush can
/// persist the runs of this test).
pub async fn run(env: &Env) -> CheckResult {
    let dir = env.data_dir("shutdown");
    let admin = cli::create_key(env, &dir, "shutdown-admin", "operator.admin").await?;
    let mut o = StartOpts::new("shutdown", &dir)
        .set("MICROCLAW_SERVER__SHUTDOWN_GRACE_MS", GRACE_MS)
        .set("MICROCLAW_METRICS__FLUSH_INTERVAL_SECONDS", 300);
    o.debug_log = true;
    let mut server = Server::start(env, &o).await?;
    let addr = server.addr;
    let mut clients = Vec::new();
    for i in 0..4 {
        clients.push(Conn::connect(addr, &admin, if i % 2 == 0 { 3 } else { 4 }).await?);
    }
    let mut driver = Conn::connect(addr, &admin, 4).await?;
    for i in 0..FINISHED_RUNS {
        let p = driver.call("chat.send", json!({"sessionKey": format!("done-{i}"), "message": format!("/echo finished {i}")})).await?;
        let run = p["runId"].as_str().unwrap_or_default().to_string();
        let end = driver
            .wait_event(|e| is_terminal(e, &run), Duration::from_secs(10))
            .await?;
        if end["payload"]["state"] != "final" {
            return Err(format!(
                "a /echo run ended {} before the test began",
                end["payload"]["state"]
            ));
        }
    }
    let mut slow = HashSet::new();
    for i in 0..SLOW_RUNS {
        let p = driver
            .call(
                "chat.send",
                json!({"sessionKey": format!("slow-{i}"), "message": "/slow 30"}),
            )
            .await?;
        slow.insert(p["runId"].as_str().unwrap_or_default().to_string());
    }
    // Load: a client hammering `health` until the server goes away.
    let mut hammer = Conn::connect(addr, &admin, 3).await?;
    let load = tokio::spawn(async move {
        let mut n = 0u64;
        while hammer
            .request("health", json!({}), Duration::from_secs(10))
            .await
            .is_ok()
        {
            hammer.events.clear();
            n += 1;
        }
        n
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t0 = Instant::now();
    server.sigterm().await?;
    let readers: Vec<_> = clients
        .into_iter()
        .chain(std::iter::once(driver))
        .map(|mut c| {
            tokio::spawn(async move {
                c.drain_for(Duration::from_millis(GRACE_MS + MARGIN_MS + 2000))
                    .await;
                c.events
            })
        })
        .collect();
    let status = server
        .wait_exit(Duration::from_millis(GRACE_MS + MARGIN_MS))
        .await;
    let exit_ms = t0.elapsed().as_millis();
    let mut failures = Vec::new();
    match status {
        None => {
            failures.push(format!(
                "still running {} ms after SIGTERM (grace {GRACE_MS} + margin {MARGIN_MS})",
                GRACE_MS + MARGIN_MS
            ));
            let _ = server.kill9().await;
        }
        Some(s) if !s.success() => {
            failures.push(format!("exited with {s} after SIGTERM, expected 0"))
        }
        Some(_) => {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if !server.stdout_lines().iter().any(|l| l.trim() == "stopped") {
                failures.push("exited without printing 'stopped'".into());
            }
        }
    }
    let hammered = load.await.unwrap_or(0);
    for (i, r) in readers.into_iter().enumerate() {
        let events = r.await.unwrap_or_default();
        if !events.iter().any(|e| e["event"] == "shutdown") {
            failures.push(format!("client {i} got no shutdown event"));
        }
        let aborted: HashSet<&str> = events
            .iter()
            .filter_map(chat_state)
            .filter(|(_, s)| *s == "aborted")
            .map(|(r, _)| r)
            .collect();
        let missing = slow
            .iter()
            .filter(|r| !aborted.contains(r.as_str()))
            .count();
        if missing > 0 {
            failures.push(format!("client {i} saw {missing}/{SLOW_RUNS} in-flight runs end without an 'aborted' event"));
        }
    }
    failures.extend(flushed_metrics(env, &dir).await.err());
    let details = format!("exit after {exit_ms} ms; {hammered} health calls answered under load");
    if failures.is_empty() {
        Ok(details)
    } else {
        Err(format!("{} ({details})", failures.join("; ")))
    }
}

/// Restarts on the same data dir: the history must hold the finished and the aborted runs.
async fn flushed_metrics(env: &Env, dir: &std::path::Path) -> Result<(), String> {
    let admin = cli::create_key(env, dir, "shutdown-verify", "operator.admin").await?;
    let server = Server::start(env, &StartOpts::new("shutdown-verify", dir)).await?;
    let h = Http::new(&server.http())?
        .get_ok("/api/metrics/history?minutes=10", &admin)
        .await;
    let _ = server.stop(Duration::from_secs(15)).await;
    let h = h?;
    let sum = |k: &str| {
        h["points"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p[k].as_u64())
            .sum::<u64>()
    };
    let (ok, aborted) = (sum("request_ok"), sum("request_aborted"));
    if ok < FINISHED_RUNS as u64 || aborted < SLOW_RUNS as u64 {
        return Err(format!(
            "after restart the history holds {ok} ok / {aborted} aborted runs, expected ≥ {FINISHED_RUNS} / ≥ {SLOW_RUNS}: the shutdown flush lost them"
        ));
    }
    Ok(())
}
