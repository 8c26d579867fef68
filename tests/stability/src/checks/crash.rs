//! Promise 1: nothing acknowledged is lost on a crash. Several writers, kill -9 at a random
//! point, restart; repeat. Then every acknowledged write must be there, the database must pass
//! `PRAGMA integrity_check`, metrics history may lose at most one flush interval, and the
//! audit chain must verify.

use super::crash_verify::{
    history_ok_total, integrity_check, verify_acked_writes, verify_metrics_history,
};
use super::crash_writers::{write_until_dead, Acks, Writer};
use crate::cli;
use crate::env::Env;
use crate::report::Report;
use crate::server::{Server, StartOpts};
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::time::Instant;

pub const WRITERS: usize = 4;
/// `metrics.flush_interval_seconds` of the crash server.
pub const FLUSH_SECONDS: u64 = 1;
/// Scheduling slack on top of one flush interval (the flush itself, event delivery).
pub const FLUSH_SLACK: Duration = Duration::from_millis(600);

pub struct CrashRun {
    pub dir: PathBuf,
    pub acks: Acks,
    pub kills: Vec<Instant>,
    pub integrity: Vec<String>,
    pub started: Instant,
    pub cycles: Vec<CycleStats>,
}

/// What one process lifetime did, for the per-cycle metrics bound.
pub struct CycleStats {
    pub kill: Instant,
    /// When our runs' `final` events arrived.
    pub finals: Vec<Instant>,
    /// Acknowledged chat.send count.
    pub chats: usize,
    /// `request_ok` summed over the history right after this cycle's start (before any run).
    pub history_before: u64,
}

fn opts(dir: &Path) -> StartOpts {
    let mut o = StartOpts::new("crash", dir)
        .set("MICROCLAW_METRICS__FLUSH_INTERVAL_SECONDS", FLUSH_SECONDS)
        .set("MICROCLAW_AUTH__API_KEY_RATE_LIMIT_PER_MINUTE", 100000)
        .set("MICROCLAW_SESSIONS__MAX_QUEUED_PER_SESSION", 8);
    o.debug_log = true;
    o
}

/// Runs the cycles and records the four crash checks.
pub async fn run(env: &Env, report: &mut Report, cycles: usize, seed: u64) {
    let t0 = std::time::Instant::now();
    let run = match cycles_run(env, cycles, seed).await {
        Ok(r) => r,
        Err(e) => {
            let secs = t0.elapsed().as_secs_f64();
            for name in [
                "crash_acked_writes_survive",
                "crash_db_integrity",
                "crash_metrics_history_loss",
                "crash_audit_chain",
            ] {
                report.record(
                    name,
                    1,
                    Err(format!("crash cycles could not run: {e}")),
                    secs,
                );
            }
            return;
        }
    };
    let secs = t0.elapsed().as_secs_f64();
    let admin = match cli::create_key(env, &run.dir, "crash-verify", "operator.admin").await {
        Ok(k) => k,
        Err(e) => {
            report.record("crash_acked_writes_survive", 1, Err(e), secs);
            return;
        }
    };
    let server = match Server::start(env, &opts(&run.dir)).await {
        Ok(s) => s,
        Err(e) => {
            report.record(
                "crash_acked_writes_survive",
                1,
                Err(format!("restart after the last kill failed: {e}")),
                secs,
            );
            return;
        }
    };
    let t = std::time::Instant::now();
    let acked = verify_acked_writes(&server, &admin, &run.acks).await;
    report.record(
        "crash_acked_writes_survive",
        1,
        acked,
        secs + t.elapsed().as_secs_f64(),
    );
    let t = std::time::Instant::now();
    let history = verify_metrics_history(&server, &admin, &run).await;
    report.record(
        "crash_metrics_history_loss",
        1,
        history,
        t.elapsed().as_secs_f64(),
    );
    let stopped = server.stop(Duration::from_secs(15)).await;
    let t = std::time::Instant::now();
    let mut integrity = run.integrity.clone();
    if let Err(e) = integrity_check(&run.dir.join("microclaw.db")).await {
        integrity.push(format!("after the final graceful stop: {e}"));
    }
    if let Err(e) = stopped {
        integrity.push(format!("final stop: {e}"));
    }
    // Catches: a torn page or a half-applied transaction after kill -9 (synchronous=off,
    // journal_mode not WAL, writes outside transactions).
    let integrity_result = if integrity.is_empty() {
        Ok(format!("{} checks ok", run.kills.len() + 1))
    } else {
        Err(integrity.join("; "))
    };
    report.record(
        "crash_db_integrity",
        1,
        integrity_result,
        t.elapsed().as_secs_f64(),
    );
    // Catches: an audit row written without its chain hash (or a hash over a row that was
    // rolled back) when the process dies between the two.
    let t = std::time::Instant::now();
    let audit = cli::audit_verify(env, &run.dir).await;
    report.record("crash_audit_chain", 1, audit, t.elapsed().as_secs_f64());
}

async fn cycles_run(env: &Env, cycles: usize, seed: u64) -> Result<CrashRun, String> {
    let dir = env.data_dir("crash");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut tokens = Vec::new();
    for i in 0..WRITERS {
        tokens.push(cli::create_key(env, &dir, &format!("writer-{i}"), "operator.admin").await?);
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut run = CrashRun {
        dir: dir.clone(),
        acks: Acks::default(),
        kills: Vec::new(),
        integrity: Vec::new(),
        started: Instant::now(),
        cycles: Vec::new(),
    };
    for cycle in 0..cycles {
        let server = Server::start(env, &opts(&dir))
            .await
            .map_err(|e| format!("cycle {cycle}: start failed: {e}"))?;
        let history_before = history_ok_total(&server, &tokens[0], run.started)
            .await
            .map_err(|e| format!("cycle {cycle}: reading the metrics history: {e}"))?;
        let mut tasks = Vec::new();
        for (index, token) in tokens.iter().enumerate() {
            let w = Writer {
                env: env.clone(),
                addr: server.addr,
                token: token.clone(),
                cycle,
                index,
            };
            tasks.push(tokio::spawn(write_until_dead(w, Duration::from_secs(15))));
        }
        let delay = rng.gen_range(1500..3500u64);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        let kill = Instant::now();
        run.kills.push(kill);
        server
            .kill9()
            .await
            .map_err(|e| format!("cycle {cycle}: {e}"))?;
        let mut stats = CycleStats {
            kill,
            finals: Vec::new(),
            chats: 0,
            history_before,
        };
        for t in tasks {
            match tokio::time::timeout(Duration::from_secs(20), t).await {
                Ok(Ok(acks)) => {
                    stats.finals.extend(acks.finals.iter().copied());
                    stats.chats += acks.chats.len();
                    run.acks.merge(acks);
                }
                _ => {
                    return Err(format!(
                        "cycle {cycle}: a writer did not stop after the kill"
                    ))
                }
            }
        }
        run.cycles.push(stats);
        if let Err(e) = integrity_check(&dir.join("microclaw.db")).await {
            run.integrity.push(format!("after kill {cycle}: {e}"));
        }
    }
    Ok(run)
}
