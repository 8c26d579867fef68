//! `Store`: one writer connection plus a small pool of read connections, all on one WAL-mode
//! SQLite file. Every write runs in an IMMEDIATE transaction that is committed before the call
//! returns.
//!
//! Two ways in: the blocking methods (`store.session_get(..)`, for the offline CLI, tests and
//! code already on a blocking thread) and the async facade in `async_facade.rs`
//! (`store.write_async(..)` / `store.read_async(..)`), which async code must use: writes run on
//! the one writer thread, reads on a bounded pool of blocking threads, so no tokio worker ever
//! waits on SQLite.

use crate::migrations;
use crate::sql_error::SqlContext;
use microclaw_core::config::Synchronous;
use microclaw_core::{Error, Result};
use parking_lot::Mutex;
use rusqlite::{Connection, TransactionBehavior};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How many read connections the pool keeps.
pub const READ_POOL_SIZE: usize = 4;
/// How long a connection waits for another connection's (or process's) lock before UNAVAILABLE.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Memory-mapped reads: every connection shares the OS page cache instead of copying pages.
const MMAP_BYTES: i64 = 256 * 1024 * 1024;

/// The session store. Cheap to clone (an `Arc` inside); `Send + Sync`.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    path: PathBuf,
    closed: AtomicBool,
    writer: Mutex<Option<Connection>>,
    readers: Vec<Mutex<Option<Connection>>>,
    next_reader: AtomicUsize,
    /// `count(*) FROM sessions`, kept in memory: read at open, adjusted by every committed
    /// write of this process (so `health` never touches SQLite).
    session_count: AtomicI64,
    /// Bumped after every committed write of this process (caches of read results compare it).
    write_revision: AtomicU64,
    /// The async facade's writer thread and read permits (see `async_facade.rs`).
    pub(crate) facade: crate::async_facade::Facade,
}

thread_local! {
    /// Sessions created (+) or deleted (-) by the write transaction running on this thread;
    /// applied to `Inner::session_count` only when it commits.
    static SESSION_DELTA: Cell<i64> = const { Cell::new(0) };
}

/// Records that the current write transaction created (`+1`) or deleted (`-n`) sessions.
pub(crate) fn note_sessions_delta(delta: i64) {
    SESSION_DELTA.with(|d| d.set(d.get() + delta));
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating the file and its directory when missing) and migrates the database.
    pub fn open(path: &Path, sync: Synchronous) -> Result<Store> {
        Self::open_with_busy_timeout(path, sync, BUSY_TIMEOUT)
    }

    /// `open` with a custom lock wait (tests use a short one to see UNAVAILABLE quickly).
    pub fn open_with_busy_timeout(
        path: &Path,
        sync: Synchronous,
        busy_timeout: Duration,
    ) -> Result<Store> {
        prepare_dir(path)?;
        let existed = path.exists();
        let mut writer = connect(path, sync, busy_timeout)?;
        restrict_file_mode(path, existed)?;
        writer
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            .ctx(&format!(
                "opening database {} (enabling WAL)",
                path.display()
            ))?;
        migrations::migrate(&mut writer, path)?;
        let mut readers = Vec::with_capacity(READ_POOL_SIZE);
        for _ in 0..READ_POOL_SIZE {
            let conn = connect(path, sync, busy_timeout)?;
            conn.execute_batch("PRAGMA query_only = ON")
                .ctx("configuring a read connection")?;
            readers.push(Mutex::new(Some(conn)));
        }
        let count: i64 = writer
            .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
            .ctx("counting sessions")?;
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                closed: AtomicBool::new(false),
                writer: Mutex::new(Some(writer)),
                readers,
                next_reader: AtomicUsize::new(0),
                session_count: AtomicI64::new(count),
                write_revision: AtomicU64::new(0),
                facade: crate::async_facade::Facade::new(READ_POOL_SIZE),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Checkpoints the WAL into the main file and closes every connection; later calls fail
    /// with UNAVAILABLE. Calling it twice is harmless.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        for r in &self.inner.readers {
            r.lock().take();
        }
        if let Some(conn) = self.inner.writer.lock().take() {
            // Refresh planner statistics (bounded work), then fold the WAL into the main file.
            if let Err(e) = conn.execute_batch("PRAGMA analysis_limit = 400; PRAGMA optimize;") {
                tracing::warn!(error = %e, "PRAGMA optimize at close failed");
            }
            if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
                tracing::warn!(error = %e, "WAL checkpoint at close failed");
            }
            if let Err((_, e)) = conn.close() {
                tracing::warn!(error = %e, "closing the database writer failed");
            }
        }
    }

    /// The number of stored sessions, from memory (see `Inner::session_count`).
    pub fn session_count_cached(&self) -> i64 {
        self.inner.session_count.load(Ordering::Relaxed).max(0)
    }

    /// Counts the write transactions this process committed: a read result taken at one value
    /// may be stale at another (writes by other processes are not counted).
    pub fn write_revision(&self) -> u64 {
        self.inner.write_revision.load(Ordering::Acquire)
    }

    /// Re-reads the session count from the database (catches rows another process wrote).
    pub fn refresh_session_count(&self) -> Result<i64> {
        let n = self.session_count()?;
        self.inner.session_count.store(n, Ordering::Relaxed);
        Ok(n)
    }

    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    /// `PRAGMA integrity_check`: "ok" when healthy, otherwise the problems, one per line.
    pub fn integrity_check(&self) -> Result<String> {
        self.read(|c| {
            let mut stmt = c
                .prepare("PRAGMA integrity_check")
                .ctx("running integrity_check")?;
            let lines = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .ctx("running integrity_check")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading integrity_check results")?;
            Ok(lines.join("\n"))
        })
    }

    /// Runs `f` inside an IMMEDIATE transaction on the writer and commits before returning.
    /// An error from `f` rolls everything back.
    pub(crate) fn write<T>(
        &self,
        what: &str,
        f: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T> {
        let mut guard = self.inner.writer.lock();
        let conn = match guard.as_mut() {
            Some(c) if !self.is_closed() => c,
            _ => return Err(closed_error()),
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(&format!("{what} (starting the write transaction)"))?;
        SESSION_DELTA.with(|d| d.set(0));
        let out = f(&tx)?;
        tx.commit().ctx(&format!("{what} (committing)"))?;
        self.inner.write_revision.fetch_add(1, Ordering::Release);
        let delta = SESSION_DELTA.with(|d| d.replace(0));
        if delta != 0 {
            self.inner.session_count.fetch_add(delta, Ordering::Relaxed);
        }
        Ok(out)
    }

    /// Runs `f` on a pooled read connection (query_only). Multi-statement reads that must
    /// agree with each other should open a transaction inside `f`.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        if self.is_closed() {
            return Err(closed_error());
        }
        let n = self.inner.readers.len();
        let start = self.inner.next_reader.fetch_add(1, Ordering::Relaxed) % n;
        let mut guard = (0..n)
            .find_map(|i| self.inner.readers[(start + i) % n].try_lock())
            .unwrap_or_else(|| self.inner.readers[start].lock());
        match guard.as_mut() {
            Some(conn) => f(conn),
            None => Err(closed_error()),
        }
    }
}

pub(crate) fn closed_error() -> Error {
    Error::unavailable("the store is closed (the server is shutting down)")
}

fn connect(path: &Path, sync: Synchronous, busy_timeout: Duration) -> Result<Connection> {
    let what = format!("opening database {}", path.display());
    let conn = Connection::open(path).ctx(&what)?;
    conn.busy_timeout(busy_timeout).ctx(&what)?;
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = {}; PRAGMA mmap_size = {MMAP_BYTES};",
        sync.as_str().to_ascii_uppercase()
    ))
    .ctx(&what)?;
    // A file that is not SQLite only fails on first real access; surface it here.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .ctx(&what)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Creates the parent directory when missing (0700 on unix).
fn prepare_dir(path: &Path) -> Result<()> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::internal(format!("creating data directory {}: {e}", dir.display())))?;
    set_mode(dir, 0o700)
}

/// A database file this call created is made private to the user (0600 on unix).
fn restrict_file_mode(path: &Path, existed: bool) -> Result<()> {
    if existed {
        return Ok(());
    }
    set_mode(path, 0o600)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| {
        Error::internal(format!(
            "setting permissions {mode:o} on {}: {e}",
            path.display()
        ))
    })
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}
