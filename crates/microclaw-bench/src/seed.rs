//! Bulk-fills a data dir's database with sessions and messages in one transaction, leaving the
//! denormalised counters (`message_count`, `last_message_preview`, `updated_at`) exactly as
//! `Store::message_append` would. The schema comes from `Store::open` (its migrations).

use anyhow::{bail, Context, Result};
use microclaw_core::config::Synchronous;
use microclaw_store::{Store, PREVIEW_CHARS};
use rusqlite::params;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The database file name inside a data dir (as `microclaw start` opens it).
pub const DB_FILE_NAME: &str = "microclaw.db";

/// What to put in the database.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    pub db_path: PathBuf,
    /// Sessions in total, the history session included.
    pub sessions: usize,
    /// Messages in total, the history session's included.
    pub messages: usize,
    /// The one session whose history is measured.
    pub history_key: String,
    /// How many of the messages go to the history session (the rest are spread over the others).
    pub history_messages: usize,
    /// Other sessions are `{key_prefix}{n:07}`.
    pub key_prefix: String,
}

/// What was written.
#[derive(Debug, Clone, Copy)]
pub struct SeedReport {
    pub sessions: usize,
    pub messages: usize,
    pub secs: f64,
}

/// `<data_dir>/microclaw.db`.
pub fn db_path_in(data_dir: &Path) -> PathBuf {
    data_dir.join(DB_FILE_NAME)
}

/// Checks the plan, migrates the database, and fills it in one transaction.
pub fn seed(plan: &SeedPlan) -> Result<SeedReport> {
    if plan.sessions == 0 {
        bail!("--sessions must be at least 1 (the history session)");
    }
    if plan.history_messages > plan.messages {
        bail!(
            "--history-messages {} is more than --messages {}: the history session's messages are part of the total",
            plan.history_messages,
            plan.messages
        );
    }
    if plan.sessions == 1 && plan.messages > plan.history_messages {
        bail!("with --sessions 1 every message belongs to the history session: set --history-messages to --messages");
    }
    let started = Instant::now();
    Store::open(&plan.db_path, Synchronous::Normal)
        .map_err(|e| anyhow::anyhow!("opening {}: {}", plan.db_path.display(), e.message))?
        .close();
    let mut conn = rusqlite::Connection::open(&plan.db_path)
        .with_context(|| format!("opening {}", plan.db_path.display()))?;
    conn.execute_batch(
        "PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
    )?;
    let clash: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sessions WHERE key = ?1 OR substr(key, 1, length(?2)) = ?2",
        params![plan.history_key, plan.key_prefix],
        |r| r.get(0),
    )?;
    if clash > 0 {
        bail!(
            "{} already holds {clash} session(s) named {:?} or starting with {:?}: seed a fresh data dir",
            plan.db_path.display(),
            plan.history_key,
            plan.key_prefix
        );
    }
    fill(&mut conn, plan)?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(SeedReport {
        sessions: plan.sessions,
        messages: plan.messages,
        secs: started.elapsed().as_secs_f64(),
    })
}

/// Session index (0 = the history session) of message `m`.
fn session_of(m: usize, plan: &SeedPlan) -> usize {
    if m < plan.history_messages {
        0
    } else {
        1 + (m - plan.history_messages).wrapping_mul(7919) % (plan.sessions - 1)
    }
}

/// Distinct `kwNNNNN` words: each appears in every `KEYWORDS`-th message (spread over
/// sessions), so a search for one is a selective hit page at any size.
pub const KEYWORDS: usize = 20_000;
/// Distinct `areaNN` words: each is in 1% of the messages (a broad search).
pub const AREAS: usize = 100;

/// The seeded text of message `m` (the search bench looks its words up).
pub fn text_of(m: usize) -> String {
    format!(
        "message {m}: the operator asked about deployment status, queue depth and logs \
         (ref {}, {})",
        keyword_of(m),
        area_of(m)
    )
}

/// The `kwNNNNN` word in message `m`.
pub fn keyword_of(m: usize) -> String {
    format!("kw{:05}", m.wrapping_mul(7919) % KEYWORDS)
}

/// The `areaNN` word in message `m`.
pub fn area_of(m: usize) -> String {
    format!("area{:02}", m % AREAS)
}

const EPOCH_MS: i64 = 1_700_000_000_000;

fn fill(conn: &mut rusqlite::Connection, plan: &SeedPlan) -> Result<()> {
    let mut counts = vec![0i64; plan.sessions];
    let mut last = vec![None::<usize>; plan.sessions];
    for m in 0..plan.messages {
        let s = session_of(m, plan);
        counts[s] += 1;
        last[s] = Some(m);
    }
    let tx = conn.transaction()?;
    let base_id: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM sessions", [], |r| {
        r.get(0)
    })?;
    {
        let mut ins = tx.prepare(
            "INSERT INTO sessions (id, key, label, created_at, updated_at, message_count, \
             last_message_preview) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (i, count) in counts.iter().enumerate() {
            let key = if i == 0 {
                plan.history_key.clone()
            } else {
                format!("{}{i:07}", plan.key_prefix)
            };
            let label = (i % 3 == 0).then(|| format!("Project {}", i % 5000));
            let created = EPOCH_MS + i as i64;
            let (updated, preview) = match last[i] {
                Some(m) => (
                    EPOCH_MS + 10_000_000 + m as i64,
                    Some(text_of(m).chars().take(PREVIEW_CHARS).collect::<String>()),
                ),
                None => (created, None),
            };
            ins.execute(params![
                base_id + 1 + i as i64,
                key,
                label,
                created,
                updated,
                count,
                preview
            ])?;
        }
        let mut ins = tx.prepare(
            "INSERT INTO messages (session_id, role, text, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for m in 0..plan.messages {
            let role = if m % 2 == 0 { "user" } else { "assistant" };
            ins.execute(params![
                base_id + 1 + session_of(m, plan) as i64,
                role,
                text_of(m),
                EPOCH_MS + 10_000_000 + m as i64
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}
