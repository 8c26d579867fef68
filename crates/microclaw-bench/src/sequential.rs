//! Sequential round trips on one connection: send one request, wait for its response, repeat.

use crate::client::{self, Ws};
use crate::frames::{self, Incoming};
use crate::stats::{summarize, Summary};
use anyhow::{anyhow, Result};
use futures_util::SinkExt;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// What a sequential run measured.
#[derive(Debug, Clone)]
pub struct SequentialReport {
    pub latency: Summary,
    /// Responses with `ok:false` (they still count as round trips).
    pub errors: u64,
    pub first_error: Option<String>,
}

/// `warmup` unmeasured round trips, then `count` measured ones, each bounded by `timeout`.
pub async fn run(
    ws: &mut Ws,
    method: &str,
    params: Option<&Value>,
    warmup: usize,
    count: usize,
    timeout: Duration,
) -> Result<SequentialReport> {
    let mut samples = Vec::with_capacity(count);
    let (mut errors, mut first_error) = (0u64, None);
    for i in 0..warmup + count {
        let id = i.to_string();
        let text = frames::request(&id, method, params);
        let started = Instant::now();
        let outcome = tokio::time::timeout(timeout, round_trip(ws, &id, text))
            .await
            .map_err(|_| anyhow!("{method} request {i} got no response within {timeout:?}"))??;
        let took = started.elapsed();
        if let Err(e) = outcome {
            errors += 1;
            first_error.get_or_insert(e);
        }
        if i >= warmup {
            samples.push(took);
        }
    }
    let latency = summarize(&mut samples).ok_or_else(|| anyhow!("no samples: --count is 0"))?;
    Ok(SequentialReport {
        latency,
        errors,
        first_error,
    })
}

/// Sends one request and waits for the response with the same id (events are skipped).
/// Outer error: the connection failed; inner error: the server answered `ok:false`.
async fn round_trip(
    ws: &mut Ws,
    id: &str,
    text: String,
) -> Result<std::result::Result<(), String>> {
    ws.send(Message::text(text)).await?;
    loop {
        let frame = client::next_text(ws).await?;
        if let Incoming::Res {
            id: Some(got),
            ok,
            error,
        } = frames::parse(&frame)
        {
            if got == id {
                return Ok(if ok {
                    Ok(())
                } else {
                    Err(error.unwrap_or_default())
                });
            }
        }
    }
}
