//! Page latency at scale (not a test): fills a temp database with 100,000 sessions and
//! 1,000,000 messages, then prints p50/p99 of the hot read paths.
//!
//! `cargo run --release -p microclaw-store --example store_pages`

use microclaw_core::config::Synchronous;
use microclaw_store::{ListQuery, Store, PREVIEW_CHARS};
use std::time::Instant;

const SESSIONS: usize = 100_000;
const MESSAGES: usize = 1_000_000;
/// Every 10th message goes to one big session, so its history is 100k messages deep.
const BIG: usize = 0;
const ITERATIONS: usize = 300;

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> AnyResult<()> {
    let dir = tempfile::tempdir()?;
    // STORE_PAGES_DB=/some/new/file.db keeps the filled database for poking with sqlite3.
    let path = match std::env::var_os("STORE_PAGES_DB") {
        Some(p) => std::path::PathBuf::from(p),
        None => dir.path().join("bench.db"),
    };
    let store = Store::open(&path, Synchronous::Normal)?;
    let t0 = Instant::now();
    fill(&path)?;
    println!(
        "store fill sessions={SESSIONS} messages={MESSAGES} secs={:.1}",
        t0.elapsed().as_secs_f64()
    );

    let first = |offset: u64, search: Option<&str>| ListQuery {
        limit: 50,
        offset,
        search: search.map(str::to_string),
    };
    report("sessions_list", || {
        let (rows, total) = store.sessions_list(&first(0, None))?;
        assert!(rows.len() == 50 && total == SESSIONS as i64);
        Ok(())
    })?;
    report("sessions_list_deep_offset_50000", || {
        let (rows, _) = store.sessions_list(&first(50_000, None))?;
        assert_eq!(rows.len(), 50);
        Ok(())
    })?;
    report("sessions_list_search", || {
        let (rows, total) = store.sessions_list(&first(0, Some("PROJECT 777")))?;
        assert!(!rows.is_empty() && total > 0);
        Ok(())
    })?;
    let big_key = key_of(BIG);
    report("messages_page", || {
        let (rows, more) = store.messages_page(&big_key, 50, None)?.ok_or("missing")?;
        assert!(rows.len() == 50 && more);
        Ok(())
    })?;
    let (page, _) = store.messages_page(&big_key, 50, None)?.ok_or("missing")?;
    let mid_before = page.first().map(|m| m.id / 2).ok_or("empty page")?;
    report("messages_page_before", || {
        let (rows, more) = store
            .messages_page(&big_key, 50, Some(mid_before))?
            .ok_or("missing")?;
        assert!(rows.len() == 50 && more);
        Ok(())
    })?;
    report("messages_page_small_session", || {
        store
            .messages_page(&key_of(4242), 50, None)?
            .ok_or("missing")?;
        Ok(())
    })?;
    store.close();
    Ok(())
}

fn key_of(i: usize) -> String {
    format!("agent:main:session-{i:06}")
}

fn session_of(m: usize) -> usize {
    if m % 10 == 0 {
        BIG
    } else {
        1 + (m.wrapping_mul(7919) % (SESSIONS - 1))
    }
}

/// Bulk load through a raw connection: one transaction, prepared statements, counters and
/// previews computed up front exactly as message_append would leave them.
fn fill(path: &std::path::Path) -> AnyResult<()> {
    let mut counts = vec![0i64; SESSIONS];
    let mut last = vec![0usize; SESSIONS];
    for m in 0..MESSAGES {
        let s = session_of(m);
        counts[s] += 1;
        last[s] = m;
    }
    let text =
        |m: usize| format!("message {m}: the operator asked about deployment status and logs");
    let mut conn = rusqlite::Connection::open(path)?;
    conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON;")?;
    let tx = conn.transaction()?;
    {
        let mut ins = tx.prepare(
            "INSERT INTO sessions (id, key, label, created_at, updated_at, message_count, \
             last_message_preview) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (i, count) in counts.iter().enumerate() {
            let label = (i % 3 == 0).then(|| format!("Project {}", i % 5000));
            let created = 1_700_000_000_000i64 + i as i64 * 1000;
            let updated = created + ((i * 104_729) % 10_000_000) as i64;
            let preview: String = text(last[i]).chars().take(PREVIEW_CHARS).collect();
            ins.execute(rusqlite::params![
                i as i64 + 1,
                key_of(i),
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
        for m in 0..MESSAGES {
            let role = if m % 2 == 0 { "user" } else { "assistant" };
            let at = 1_700_000_000_000i64 + m as i64;
            ins.execute(rusqlite::params![
                session_of(m) as i64 + 1,
                role,
                text(m),
                at
            ])?;
        }
    }
    tx.commit()?;
    // No ANALYZE: a fresh server has no planner statistics either.
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(())
}

fn report(name: &str, mut op: impl FnMut() -> AnyResult<()>) -> AnyResult<()> {
    op()?; // warm the page cache and the statement cache
    let mut us: Vec<u128> = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let t = Instant::now();
        op()?;
        us.push(t.elapsed().as_micros());
    }
    us.sort_unstable();
    let pct = |p: usize| us[(us.len() * p / 100).min(us.len() - 1)];
    println!("store {name} p50_us={} p99_us={}", pct(50), pct(99));
    Ok(())
}
