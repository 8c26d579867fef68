//! Gives freed heap back to the operating system once a burst of connections has ended.
//!
//! glibc keeps what its per-thread arenas freed: after 2,000 idle bridge sockets closed, the
//! gateway stayed at 48 MB resident of which 29 MB was free heap; `malloc_trim` returned it
//! (48 → 25 MB). So after [`RELEASE_AFTER_CLOSES`] connections have closed, once no connection
//! closed for [`QUIET`], the heap is trimmed on a blocking thread (it walks every arena). Other
//! allocators, and other C libraries, have nothing to call: there this is a no-op.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Closed connections that make a release worth it.
pub const RELEASE_AFTER_CLOSES: usize = 256;
/// How long closing must have stopped before the release.
pub const QUIET: Duration = Duration::from_secs(2);
/// A release waits at most this many quiet periods for closing to stop.
const MAX_WAITS: u32 = 30;

/// What releases the memory: `malloc_trim` in the gateway, a counter in tests.
pub type ReleaseFn = fn();

#[derive(Debug)]
pub struct MemRelease {
    closed: AtomicUsize,
    /// Bumped by every close: a release waits until it stops moving.
    epoch: AtomicU64,
    scheduled: Arc<AtomicBool>,
    releases: AtomicU64,
    release: ReleaseFn,
}

impl Default for MemRelease {
    fn default() -> Self {
        MemRelease::with(trim_heap)
    }
}

impl MemRelease {
    pub fn with(release: ReleaseFn) -> MemRelease {
        MemRelease {
            closed: AtomicUsize::new(0),
            epoch: AtomicU64::new(0),
            scheduled: Arc::new(AtomicBool::new(false)),
            releases: AtomicU64::new(0),
            release,
        }
    }

    /// Releases done so far.
    pub fn releases(&self) -> u64 {
        self.releases.load(Ordering::Relaxed)
    }

    /// One connection closed; past the threshold a release is scheduled (one at a time).
    pub fn closed(self: &Arc<Self>) {
        self.epoch.fetch_add(1, Ordering::Relaxed);
        let n = self.closed.fetch_add(1, Ordering::Relaxed) + 1;
        if n < RELEASE_AFTER_CLOSES || self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            self.scheduled.store(false, Ordering::Release);
            return;
        };
        let me = Arc::clone(self);
        rt.spawn(async move {
            for _ in 0..MAX_WAITS {
                let seen = me.epoch.load(Ordering::Relaxed);
                tokio::time::sleep(QUIET).await;
                if me.epoch.load(Ordering::Relaxed) == seen {
                    break;
                }
            }
            me.closed.store(0, Ordering::Relaxed);
            let release = me.release;
            let _ = tokio::task::spawn_blocking(release).await;
            me.releases.fetch_add(1, Ordering::Relaxed);
            me.scheduled.store(false, Ordering::Release);
        });
    }
}

/// Returns the free memory at the top of glibc's heaps and inside its arenas to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn trim_heap() {
    let before = resident_kb();
    // SAFETY: `malloc_trim` takes a plain integer, touches only the allocator's own state
    // (under its locks) and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
    tracing::debug!(
        "returned freed heap to the system: resident {} → {} kB",
        before.unwrap_or(0),
        resident_kb().unwrap_or(0)
    );
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_heap() {}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn resident_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    static CALLS: AtomicU64 = AtomicU64::new(0);
    fn count() {
        CALLS.fetch_add(1, Ordering::Relaxed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_release_follows_a_burst_of_closes_once_closing_stops() {
        let m = Arc::new(MemRelease::with(count));
        for _ in 0..RELEASE_AFTER_CLOSES - 1 {
            m.closed();
        }
        tokio::time::sleep(QUIET * 3).await;
        assert_eq!(m.releases(), 0, "below the threshold nothing happens");
        m.closed();
        // Closing goes on for a while: the release waits for it to stop.
        for _ in 0..5 {
            tokio::time::sleep(QUIET / 2).await;
            m.closed();
        }
        assert_eq!(m.releases(), 0, "not while connections keep closing");
        for _ in 0..20 {
            if m.releases() == 1 {
                break;
            }
            tokio::time::sleep(QUIET).await;
        }
        assert_eq!(m.releases(), 1, "one release once it was quiet");
        assert_eq!(CALLS.load(Ordering::Relaxed), 1);
        // The count starts over.
        for _ in 0..10 {
            m.closed();
        }
        tokio::time::sleep(QUIET * 5).await;
        assert_eq!(m.releases(), 1);
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn the_real_trim_gives_freed_heap_back() {
        // 64 MiB in small blocks, then all freed but the last one, which pins the heap's top:
        // glibc keeps the freed middle resident until it is trimmed.
        let mut blocks: Vec<Vec<u8>> = (0..64 * 1024).map(|_| vec![1u8; 1000]).collect();
        let pin = blocks.pop();
        drop(blocks);
        let before = resident_kb().unwrap();
        trim_heap();
        let after = resident_kb().unwrap();
        drop(pin);
        assert!(
            before.saturating_sub(after) > 16 * 1024,
            "trimming returned {} kB of ~64 MiB freed ({before} → {after} kB)",
            before.saturating_sub(after)
        );
    }
}
