//! Promise 1: nothing acknowledged is lost on a crash. Several writers, kill -9 at a random
//! point, restart; repeat. Then every acknowledged write must be there, the database must pass
//! `PRAGMA integrity_check`, metrics history may lose at most one flush interval, and the
//! audit chain must verify.

use super::crash_writers::{write_until_dead, Acks, Writer};
use crate::bridge::Conn;
use crate::cli;
use crate::env::Env;
use crate::http::Http;
use crate::report::{CheckResult, Report};
use crate::server::{Server, StartOpts};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::time::Instant;

const WRITERS: usize = 4;
/// `metrics.flush_interval_seconds` of the crash server.
const FLUSH_SECONDS: u64 = 1;
/// Scheduling slack on top of one flush interval (the flush itself, event delivery).
const FLUSH_SLACK: Duration = Duration::from_millis(600);

struct CrashRun {
    dir: PathBuf,
    acks: Acks,
    kills: Vec<Instant>,
    integrity: Vec<String>,
    started: Instant,
}

fn opts(dir: &Path) -> StartOpts {
    let mut o = StartOpts::new("crash", dir)
        .set("MICROCLAW_METRICS__FLUSH_INTERVAL_SECONDS", FLUSH_SECONDS)
        .set("MICROCLAW_AUTH__API_KEY_RATE_LIMIT_PER_MINUTE", 100000)
        .set("MICROCLAW_SESSIONS__MAX_INFLIGHT_PER_SESSION", 8);
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
            for name in ["crash_acked_writes_survive", "crash_db_integrity", "crash_metrics_history_loss", "crash_audit_chain"] {
                report.record(name, 1, Err(format!("crash cycles could not run: {e}")), secs);
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
            report.record("crash_acked_writes_survive", 1, Err(format!("restart after the last kill failed: {e}")), secs);
            return;
        }
    };
    let t = std::time::Instant::now();
    let acked = verify_acked_writes(&server, &admin, &run.acks).await;
    report.record("crash_acked_writes_survive", 1, acked, secs + t.elapsed().as_secs_f64());
    let t = std::time::Instant::now();
    let history = verify_metrics_history(&server, &admin, &run).await;
    report.record("crash_metrics_history_loss", 1, history, t.elapsed().as_secs_f64());
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
    report.record("crash_db_integrity", 1, integrity_result, t.elapsed().as_secs_f64());
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
    let mut run = CrashRun { dir: dir.clone(), acks: Acks::default(), kills: Vec::new(), integrity: Vec::new(), started: Instant::now() };
    for cycle in 0..cycles {
        let server = Server::start(env, &opts(&dir)).await.map_err(|e| format!("cycle {cycle}: start failed: {e}"))?;
        let mut tasks = Vec::new();
        for (index, token) in tokens.iter().enumerate() {
            let w = Writer { env: env.clone(), addr: server.addr, token: token.clone(), cycle, index };
            tasks.push(tokio::spawn(write_until_dead(w, Duration::from_secs(15))));
        }
        let delay = rng.gen_range(1500..3500u64);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        run.kills.push(Instant::now());
        server.kill9().await.map_err(|e| format!("cycle {cycle}: {e}"))?;
        for t in tasks {
            match tokio::time::timeout(Duration::from_secs(20), t).await {
                Ok(Ok(acks)) => run.acks.merge(acks),
                _ => return Err(format!("cycle {cycle}: a writer did not stop after the kill")),
            }
        }
        if let Err(e) = integrity_check(&dir.join("microclaw.db")).await {
            run.integrity.push(format!("after kill {cycle}: {e}"));
        }
    }
    Ok(run)
}

/// `PRAGMA integrity_check` must answer exactly `ok`.
pub async fn integrity_check(db: &Path) -> Result<(), String> {
    let db = db.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let conn = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(|e| format!("cannot open {}: {e}", db.display()))?;
        let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(|e| e.to_string())?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| e.to_string())?
            .filter_map(|r| r.ok())
            .collect();
        if rows == ["ok"] {
            Ok(())
        } else {
            Err(format!("integrity_check: {}", rows.join(" | ")))
        }
    })
    .await
    .map_err(|e| format!("integrity check task failed: {e}"))?
}

/// Catches: a write acknowledged before it was committed (ok sent before the transaction, a
/// write-behind cache, synchronous=off), and key/label/fork rows lost in WAL recovery.
async fn verify_acked_writes(server: &Server, admin: &str, acks: &Acks) -> CheckResult {
    if acks.chats.is_empty() || acks.forks.is_empty() || acks.keys.is_empty() {
        return Err(format!(
            "the writers got too few acknowledgements to prove anything: {} chats, {} forks, {} keys",
            acks.chats.len(), acks.forks.len(), acks.keys.len()
        ));
    }
    let mut conn = Conn::connect(server.addr, admin, 4).await?;
    let mut missing = Vec::new();
    let mut by_session: HashMap<&str, Vec<&str>> = HashMap::new();
    for (s, t) in &acks.chats {
        by_session.entry(s.as_str()).or_default().push(t.as_str());
    }
    for (session, texts) in &by_session {
        let page = conn.call("chat.history", json!({"sessionKey": session, "limit": 1000})).await?;
        let seen: HashSet<&str> = page["messages"].as_array().into_iter().flatten()
            .filter(|m| m["role"] == "user")
            .filter_map(|m| m["content"][0]["text"].as_str())
            .collect();
        missing.extend(texts.iter().filter(|t| !seen.contains(*t)).map(|t| format!("chat message '{t}' in {session}")));
    }
    let rows = list_sessions(&mut conn).await?;
    for l in &acks.labels {
        let Some(acked) = &l.acked else { continue };
        let actual = rows.get(&l.session).and_then(|r| r["label"].as_str());
        let fine = actual == Some(acked.as_str()) || (actual.is_some() && actual == l.pending.as_deref());
        if !fine {
            missing.push(format!("label of {}: expected '{acked}', found {actual:?}", l.session));
        }
    }
    for (target, point) in &acks.forks {
        match rows.get(target) {
            None => missing.push(format!("fork {target}")),
            Some(r) if r["messageCount"].as_i64() != Some(*point) => missing.push(format!(
                "fork {target}: {} messages, the fork acknowledged fork_point {point}", r["messageCount"]
            )),
            _ => {}
        }
    }
    let http = Http::new(&server.http())?;
    for key in &acks.keys {
        let r = http.get("/api/sessions?limit=1", Some(key)).await?;
        if r.status != 200 {
            missing.push(format!("API key {}… answered {}", &key[..key.len().min(11)], r.status));
        }
    }
    conn.close().await;
    if missing.is_empty() {
        Ok(format!("{} acknowledged writes verified ({} chats, {} labels, {} forks, {} keys)",
            acks.total(), acks.chats.len(), acks.labels.iter().filter(|l| l.acked.is_some()).count(), acks.forks.len(), acks.keys.len()))
    } else {
        Err(format!("{} of {} acknowledged writes lost: {}", missing.len(), acks.total(), missing.iter().take(5).cloned().collect::<Vec<_>>().join("; ")))
    }
}

/// Every session row by key (paged, bounded).
async fn list_sessions(conn: &mut Conn) -> Result<HashMap<String, Value>, String> {
    let mut rows = HashMap::new();
    for page in 0..100u64 {
        let p = conn.call("sessions.list", json!({"limit": 1000, "offset": page * 1000})).await?;
        for s in p["sessions"].as_array().into_iter().flatten() {
            if let Some(k) = s["key"].as_str() {
                rows.insert(k.to_string(), s.clone());
            }
        }
        if p["hasMore"] != true {
            return Ok(rows);
        }
    }
    Err("sessions.list still hasMore after 100 pages".into())
}

/// Catches: metrics held only in memory (no periodic flush), a flush that overwrites the
/// minute's row instead of adding to it (restarts within a minute), or counting twice.
async fn verify_metrics_history(server: &Server, admin: &str, run: &CrashRun) -> CheckResult {
    let window = Duration::from_secs(FLUSH_SECONDS) + FLUSH_SLACK;
    let mut must_have = 0usize;
    let mut kills = run.kills.clone();
    kills.sort();
    for f in &run.acks.finals {
        // The kill that ended this final's process: the first kill after it.
        if let Some(k) = kills.iter().find(|k| *k >= f) {
            if k.duration_since(*f) > window {
                must_have += 1;
            }
        }
    }
    let minutes = run.started.elapsed().as_secs() / 60 + 3;
    let http = Http::new(&server.http())?;
    let h = http.get_ok(&format!("/api/metrics/history?minutes={minutes}"), admin).await?;
    let points = h["points"].as_array().ok_or("history has no points array")?;
    let recorded: u64 = points.iter().filter_map(|p| p["request_ok"].as_u64()).sum();
    let seen = run.acks.finals.len() as u64;
    // At most one chat.send per writer was in flight at each kill (committed, response lost).
    let acked = (run.acks.chats.len() + run.kills.len() * WRITERS) as u64;
    if (recorded as usize) < must_have {
        return Err(format!(
            "history holds {recorded} ok runs but {must_have} finished more than {window:?} before their kill (lost more than one flush interval)"
        ));
    }
    if recorded > acked {
        return Err(format!("history holds {recorded} ok runs but at most {acked} runs were ever started: counted twice"));
    }
    Ok(format!("history {recorded} ok runs; {seen} finals seen, {must_have} older than one flush interval at their kill"))
}
