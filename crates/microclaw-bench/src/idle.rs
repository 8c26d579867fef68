//! Idle connections: open many, complete every handshake, hold them (reading and discarding
//! ticks, answering pings), then measure the server and let them go.

use crate::client;
use crate::proc_status;
use anyhow::Result;
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Shape of one idle-hold run.
#[derive(Debug, Clone)]
pub struct IdlePlan {
    pub url: String,
    pub token: String,
    pub count: usize,
    /// Handshakes in flight at once while opening.
    pub concurrency: usize,
    /// How long to hold after the last handshake before measuring.
    pub settle: Duration,
    /// The server's process id, to read its memory.
    pub server_pid: Option<u32>,
    /// Opening stops here even if not all `count` are open (then `timed_out` is set).
    pub max_open: Duration,
}

/// What an idle run measured.
#[derive(Debug, Clone, Default)]
pub struct IdleReport {
    pub opened: u64,
    pub failed: u64,
    pub first_failure: Option<String>,
    pub open_secs: f64,
    /// Opening hit `max_open` before `count` connections were open.
    pub timed_out: bool,
    /// Connections still open when measured (the server closed none of them).
    pub still_open: u64,
    pub rss_before_kb: Option<u64>,
    pub rss_held_kb: Option<u64>,
    /// The anonymous part of `rss_held_kb` (heap and stacks, without the binary's code pages).
    pub rss_anon_held_kb: Option<u64>,
}

/// Opens `count` connections, holds them for `settle`, measures, then closes them all.
pub async fn run(plan: &IdlePlan) -> Result<IdleReport> {
    let mut report = IdleReport {
        rss_before_kb: plan.server_pid.and_then(|p| proc_status::rss_kb(p).ok()),
        ..Default::default()
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let dropped = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut opens = futures_util::stream::iter(0..plan.count)
        .map(|_| client::connect_idle(&plan.url, &plan.token, Duration::from_secs(30)))
        .buffer_unordered(plan.concurrency.max(1));
    let mut holders = Vec::with_capacity(plan.count);
    let deadline = tokio::time::Instant::now() + plan.max_open;
    loop {
        let result = match tokio::time::timeout_at(deadline, opens.next()).await {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(_) => {
                report.timed_out = true;
                break;
            }
        };
        match result {
            Ok(ws) => {
                report.opened += 1;
                holders.push(tokio::spawn(hold(
                    ws,
                    stop_rx.clone(),
                    Arc::clone(&dropped),
                )));
            }
            Err(e) => {
                report.failed += 1;
                report.first_failure.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    drop(opens);
    report.open_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(plan.settle).await;
    report.rss_held_kb = plan.server_pid.and_then(|p| proc_status::rss_kb(p).ok());
    report.rss_anon_held_kb = plan
        .server_pid
        .and_then(|p| proc_status::status_kb(p, "RssAnon").ok());
    report.still_open = report.opened - dropped.load(Ordering::Relaxed);
    let _ = stop_tx.send(true);
    for h in holders {
        let _ = h.await;
    }
    Ok(report)
}

async fn hold(mut ws: client::Ws, mut stop: watch::Receiver<bool>, dropped: Arc<AtomicU64>) {
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            frame = ws.next() => match frame {
                Some(Ok(_)) => continue,
                _ => {
                    dropped.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            },
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
}
