//! A well-behaved client that keeps asking `health` while a check abuses the server: it
//! proves the server keeps serving others, and measures how long they wait.

use crate::bridge::Conn;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

pub struct Canary {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Result<Vec<u64>, String>>,
}

/// What the canary saw: round-trip times in ms.
pub struct CanaryStats {
    pub rtts_ms: Vec<u64>,
}

impl CanaryStats {
    pub fn quantile(&self, q: f64) -> u64 {
        let mut v = self.rtts_ms.clone();
        v.sort_unstable();
        if v.is_empty() {
            return 0;
        }
        let idx = ((v.len() as f64 - 1.0) * q).round() as usize;
        v[idx.min(v.len() - 1)]
    }

    pub fn max(&self) -> u64 {
        self.rtts_ms.iter().copied().max().unwrap_or(0)
    }
}

impl Canary {
    pub async fn start(addr: SocketAddr, token: &str, every: Duration) -> Result<Canary, String> {
        let mut conn = Conn::connect(addr, token, 3).await?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut rtts = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                let t = Instant::now();
                let res = conn
                    .request("health", json!({}), Duration::from_secs(10))
                    .await?;
                if res["ok"] != true {
                    return Err(format!("health failed: {}", res["error"]));
                }
                rtts.push(t.elapsed().as_millis() as u64);
                conn.events.clear();
                tokio::time::sleep(every).await;
            }
            conn.close().await;
            Ok(rtts)
        });
        Ok(Canary { stop, task })
    }

    /// Stops it; Err when it lost its connection or a request failed or timed out.
    pub async fn finish(self) -> Result<CanaryStats, String> {
        self.stop.store(true, Ordering::Relaxed);
        match tokio::time::timeout(Duration::from_secs(20), self.task).await {
            Ok(Ok(Ok(rtts))) => Ok(CanaryStats { rtts_ms: rtts }),
            Ok(Ok(Err(e))) => Err(format!("the well-behaved client was hurt: {e}")),
            _ => Err("the well-behaved client hung".into()),
        }
    }
}
