//! Pipelined throughput: `conns` connections, each keeping `depth` requests in flight for a
//! fixed duration. Responses may come back in any order; each one answered lets one more go.

use crate::client::{self, Ws};
use crate::frames::{self, Incoming};
use anyhow::{anyhow, Context, Result};
use futures_util::{FutureExt, SinkExt, StreamExt};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// Shape of one pipelined run.
#[derive(Debug, Clone)]
pub struct PipelinedPlan {
    pub url: String,
    pub token: String,
    pub method: String,
    pub params: Option<Value>,
    pub conns: usize,
    pub depth: usize,
    pub duration: Duration,
    /// The server's process id: its CPU time over the window is read from `/proc`.
    pub server_pid: Option<u32>,
}

/// What a pipelined run measured (only responses that arrived inside the window count).
#[derive(Debug, Clone, Default)]
pub struct PipelinedReport {
    pub ok: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub secs: f64,
    /// Server CPU seconds (user + system) used over the window, when its pid was given.
    pub server_cpu_secs: Option<f64>,
}

impl PipelinedReport {
    /// Successful responses per second.
    pub fn rps(&self) -> f64 {
        if self.secs > 0.0 {
            self.ok as f64 / self.secs
        } else {
            0.0
        }
    }
}

/// Connects every connection first, then runs them all over the same window.
pub async fn run(plan: &PipelinedPlan) -> Result<PipelinedReport> {
    if plan.conns == 0 || plan.depth == 0 {
        anyhow::bail!("--conns and --depth must be at least 1");
    }
    let mut conns = Vec::with_capacity(plan.conns);
    for i in 0..plan.conns {
        let ws = client::connect(&plan.url, &plan.token, Duration::from_secs(10))
            .await
            .with_context(|| format!("opening pipelined connection {i}"))?;
        conns.push(ws);
    }
    let cpu_before = plan.server_pid.map(crate::proc_cpu::cpu_secs).transpose()?;
    let start = Instant::now();
    let deadline = start + plan.duration;
    let plan = Arc::new(plan.clone());
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|ws| tokio::spawn(drive(ws, Arc::clone(&plan), deadline)))
        .collect();
    let mut total = PipelinedReport {
        secs: plan.duration.as_secs_f64(),
        ..Default::default()
    };
    for t in tasks {
        let r = t.await.map_err(|e| anyhow!("a load task failed: {e}"))??;
        total.ok += r.ok;
        total.errors += r.errors;
        if total.first_error.is_none() {
            total.first_error = r.first_error;
        }
    }
    if let (Some(pid), Some(before)) = (plan.server_pid, cpu_before) {
        total.server_cpu_secs = Some(crate::proc_cpu::cpu_secs(pid)? - before);
    }
    Ok(total)
}

/// One connection's loop: fill the pipe, then send one request per response until the deadline.
async fn drive(mut ws: Ws, plan: Arc<PipelinedPlan>, deadline: Instant) -> Result<PipelinedReport> {
    let mut report = PipelinedReport::default();
    let mut next_id: u64 = 0;
    let mut request = || {
        next_id += 1;
        Message::text(frames::request(
            &next_id.to_string(),
            &plan.method,
            plan.params.as_ref(),
        ))
    };
    for _ in 0..plan.depth {
        ws.feed(request()).await?;
    }
    ws.flush().await?;
    loop {
        let first = match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => break,
            Ok(frame) => frame,
        };
        let mut answered = count(first, &mut report)?;
        // Drain whatever is already buffered before paying for one flush.
        while let Some(frame) = ws.next().now_or_never() {
            answered += count(frame, &mut report)?;
        }
        if Instant::now() >= deadline {
            break;
        }
        for _ in 0..answered {
            ws.feed(request()).await?;
        }
        ws.flush().await?;
    }
    let _ = ws.close(None).await;
    Ok(report)
}

type Frame = Option<Result<Message, tokio_tungstenite::tungstenite::Error>>;

/// 1 when the frame was a response (counted as ok or error), 0 for events and control frames.
fn count(frame: Frame, report: &mut PipelinedReport) -> Result<usize> {
    let msg = match frame {
        None => anyhow::bail!("the bridge closed a pipelined connection"),
        Some(Err(e)) => return Err(anyhow!(e).context("reading a pipelined response")),
        Some(Ok(m)) => m,
    };
    let text = match msg {
        Message::Text(t) => t,
        Message::Close(f) => anyhow::bail!("the bridge closed a pipelined connection: {f:?}"),
        _ => return Ok(0),
    };
    match frames::parse(text.as_str()) {
        Incoming::Res { ok: true, .. } => report.ok += 1,
        Incoming::Res { error, .. } => {
            report.errors += 1;
            if report.first_error.is_none() {
                report.first_error = error;
            }
        }
        _ => return Ok(0),
    }
    Ok(1)
}
