//! The verification half of the crash check: integrity, acknowledged writes after restart,
//! and the metrics history bound.

use super::crash::{CrashRun, FLUSH_SECONDS, FLUSH_SLACK, WRITERS};
use super::crash_writers::Acks;
use crate::bridge::Conn;
use crate::http::Http;
use crate::report::CheckResult;
use crate::server::Server;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;
use tokio::time::Instant;

/// `PRAGMA integrity_check` must answer exactly `ok`.
pub async fn integrity_check(db: &Path) -> Result<(), String> {
    let db = db.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let conn =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
                .map_err(|e| format!("cannot open {}: {e}", db.display()))?;
        let mut stmt = conn
            .prepare("PRAGMA integrity_check")
            .map_err(|e| e.to_string())?;
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
pub async fn verify_acked_writes(server: &Server, admin: &str, acks: &Acks) -> CheckResult {
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
        let page = conn
            .call(
                "chat.history",
                json!({"sessionKey": session, "limit": 1000}),
            )
            .await?;
        let seen: HashSet<&str> = page["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["role"] == "user")
            .filter_map(|m| m["content"][0]["text"].as_str())
            .collect();
        missing.extend(
            texts
                .iter()
                .filter(|t| !seen.contains(*t))
                .map(|t| format!("chat message '{t}' in {session}")),
        );
    }
    let rows = list_sessions(&mut conn).await?;
    for l in &acks.labels {
        let Some(acked) = &l.acked else { continue };
        let actual = rows.get(&l.session).and_then(|r| r["label"].as_str());
        let fine =
            actual == Some(acked.as_str()) || (actual.is_some() && actual == l.pending.as_deref());
        if !fine {
            missing.push(format!(
                "label of {}: expected '{acked}', found {actual:?}",
                l.session
            ));
        }
    }
    for (target, point) in &acks.forks {
        match rows.get(target) {
            None => missing.push(format!("fork {target}")),
            Some(r) if r["messageCount"].as_i64() != Some(*point) => missing.push(format!(
                "fork {target}: {} messages, the fork acknowledged fork_point {point}",
                r["messageCount"]
            )),
            _ => {}
        }
    }
    let http = Http::new(&server.http())?;
    for key in &acks.keys {
        let r = http.get("/api/sessions?limit=1", Some(key)).await?;
        if r.status != 200 {
            missing.push(format!(
                "API key {}… answered {}",
                &key[..key.len().min(11)],
                r.status
            ));
        }
    }
    conn.close().await;
    if missing.is_empty() {
        Ok(format!(
            "{} acknowledged writes verified ({} chats, {} labels, {} forks, {} keys)",
            acks.total(),
            acks.chats.len(),
            acks.labels.iter().filter(|l| l.acked.is_some()).count(),
            acks.forks.len(),
            acks.keys.len()
        ))
    } else {
        Err(format!(
            "{} of {} acknowledged writes lost: {}",
            missing.len(),
            acks.total(),
            missing
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ))
    }
}

/// Every session row by key (paged, bounded).
async fn list_sessions(conn: &mut Conn) -> Result<HashMap<String, Value>, String> {
    let mut rows = HashMap::new();
    for page in 0..100u64 {
        let p = conn
            .call(
                "sessions.list",
                json!({"limit": 1000, "offset": page * 1000}),
            )
            .await?;
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

/// `request_ok` summed over the whole history since the crash phase began.
pub async fn history_ok_total(server: &Server, token: &str, since: Instant) -> Result<u64, String> {
    let minutes = since.elapsed().as_secs() / 60 + 3;
    let h = Http::new(&server.http())?
        .get_ok(&format!("/api/metrics/history?minutes={minutes}"), token)
        .await?;
    let points = h["points"]
        .as_array()
        .ok_or("history has no points array")?;
    Ok(points.iter().filter_map(|p| p["request_ok"].as_u64()).sum())
}

/// Catches: metrics held only in memory (no periodic flush), a flush that overwrites the
/// minute's row instead of adding to it (restarts within a minute), or counting twice.
/// Per process lifetime: the runs it finished more than one flush interval (plus slack)
/// before its kill must be in the history at the next start; more than it ever started
/// must not.
pub async fn verify_metrics_history(server: &Server, admin: &str, run: &CrashRun) -> CheckResult {
    let window = Duration::from_secs(FLUSH_SECONDS) + FLUSH_SLACK;
    let final_total = history_ok_total(server, admin, run.started).await?;
    let mut problems = Vec::new();
    let (mut must_total, mut seen_total) = (0usize, 0usize);
    for (c, cycle) in run.cycles.iter().enumerate() {
        let after = run
            .cycles
            .get(c + 1)
            .map(|n| n.history_before)
            .unwrap_or(final_total);
        let Some(delta) = after.checked_sub(cycle.history_before) else {
            problems.push(format!(
                "cycle {c}: history shrank from {} to {after} ok runs",
                cycle.history_before
            ));
            continue;
        };
        let must = cycle
            .finals
            .iter()
            .filter(|f| cycle.kill.duration_since(**f) > window)
            .count();
        // At most one chat.send per writer was in flight at the kill (committed, response lost).
        let max = (cycle.chats + WRITERS) as u64;
        must_total += must;
        seen_total += cycle.finals.len();
        if (delta as usize) < must {
            problems.push(format!("cycle {c}: {delta} ok runs persisted but {must} finished more than {window:?} before the kill"));
        } else if delta > max {
            problems.push(format!("cycle {c}: {delta} ok runs persisted but at most {max} were started: counted twice"));
        }
    }
    if !problems.is_empty() {
        return Err(format!(
            "metrics history lost more than one flush interval ({FLUSH_SECONDS} s): {}",
            problems
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    Ok(format!("{} cycles: history {final_total} ok runs; {seen_total} finals seen, {must_total} older than one flush interval at their kill, all persisted", run.cycles.len()))
}
