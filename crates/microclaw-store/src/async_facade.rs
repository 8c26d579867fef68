//! The store's async facade: what async code (handlers, run tasks, background loops) calls.
//!
//! - `write_async(f)` queues `f` to the one writer thread, which owns the write connection in
//!   server mode: writes never contend for it, and no tokio worker waits on a commit. The queue
//!   is bounded (`WRITE_QUEUE_DEPTH`); a full queue makes the caller wait (backpressure), never
//!   drops the write.
//! - `read_async(f)` runs `f` on a blocking thread once one of `READ_POOL_SIZE` permits is free,
//!   so at most that many reads run at once and each finds a free read connection.
//!
//! `f` gets the `Store` and calls its ordinary blocking methods, so each table module is
//! written once. A future dropped after its job was queued does not cancel the job: a write
//! that started always finishes (and commits or rolls back as a whole).

use crate::store::Store;
use microclaw_core::{Error, Result};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};

/// How many writes may wait for the writer thread before callers wait to enqueue.
pub const WRITE_QUEUE_DEPTH: usize = 1024;

type Job = Box<dyn FnOnce() + Send + 'static>;

pub(crate) struct Facade {
    jobs: mpsc::Sender<Job>,
    read_permits: Arc<Semaphore>,
}

impl Facade {
    /// Starts the writer thread. It ends when the last `Store` clone (and so the sender) is gone.
    pub(crate) fn new(readers: usize) -> Facade {
        let (jobs, mut rx) = mpsc::channel::<Job>(WRITE_QUEUE_DEPTH);
        let spawned = std::thread::Builder::new()
            .name("microclaw-store-writer".into())
            .spawn(move || {
                while let Some(job) = rx.blocking_recv() {
                    job();
                }
            });
        if let Err(e) = spawned {
            // Without the thread every write_async fails with UNAVAILABLE (below), not a hang.
            tracing::error!("cannot start the store writer thread: {e}");
        }
        Facade {
            jobs,
            read_permits: Arc::new(Semaphore::new(readers.max(1))),
        }
    }
}

fn writer_gone() -> Error {
    Error::unavailable("the store writer is not running (the server is shutting down)")
}

impl Store {
    /// Runs `f` (which performs blocking writes through the store's methods) on the writer
    /// thread and returns its result.
    pub async fn write_async<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Store) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.is_closed() {
            return Err(crate::store::closed_error());
        }
        let (tx, rx) = oneshot::channel();
        let store = self.clone();
        let job: Job = Box::new(move || {
            let out = f(&store);
            let _ = tx.send(out);
        });
        self.inner
            .facade
            .jobs
            .send(job)
            .await
            .map_err(|_| writer_gone())?;
        rx.await.map_err(|_| writer_gone())?
    }

    /// Runs `f` (blocking reads through the store's methods) on a blocking thread, at most
    /// `READ_POOL_SIZE` at a time.
    pub async fn read_async<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Store) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if self.is_closed() {
            return Err(crate::store::closed_error());
        }
        let permit = self
            .inner
            .facade
            .read_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| writer_gone())?;
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            let out = f(&store);
            drop(permit);
            out
        })
        .await
        .map_err(|e| Error::internal(format!("a store read task failed: {e}")))?
    }
}
