//! The engine-core benchmark (issue 10): `health` round trips on their own bridge socket while
//! clients loop the heaviest reads — the 30-day metrics history over HTTP, `sessions.list`
//! with `search` and a 1,000-message `chat.history` over the bridge — plus the idle figures
//! (fresh handshakes, one 30-day history). Every loop is bounded in time.

use crate::client::{self, Ws};
use crate::rpc::{self, Fetched};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bound on one heavy read (a read that takes longer is counted as an error).
const READ_TIMEOUT: Duration = Duration::from_secs(30);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What to run against which gateway.
#[derive(Debug, Clone)]
pub struct HeavyPlan {
    /// The gateway: `http://HOST:PORT/` (the bridge is at `/`, the API under `/api`).
    pub url: String,
    pub token: String,
    /// Clients looping the heavy reads.
    pub clients: usize,
    /// How long the probe measures `health` under the load.
    pub load: Duration,
    pub history_minutes: u32,
    /// `sessions.list` `search` text.
    pub search: String,
    /// The big session and how many messages `chat.history` asks for.
    pub big_session: String,
    pub big_limit: u32,
    /// Pause between two probe round trips.
    pub probe_gap: Duration,
}

/// The heavy reads, in the order a client cycles through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    History,
    Search,
    ChatHistory,
}

impl Read {
    pub const ALL: [Read; 3] = [Read::History, Read::Search, Read::ChatHistory];

    /// The name in the printed keys.
    pub fn name(self) -> &'static str {
        match self {
            Read::History => "history_30d",
            Read::Search => "sessions_search",
            Read::ChatHistory => "chat_history_1000",
        }
    }
}

/// Latencies of one kind of request, and its refusals.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    pub samples: Vec<Duration>,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl Samples {
    fn fail(&mut self, e: String) {
        self.errors += 1;
        self.first_error.get_or_insert(e);
    }

    fn merge(&mut self, other: Samples) {
        self.samples.extend(other.samples);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

impl HeavyPlan {
    fn http_base(&self) -> Result<String> {
        let (_, authority) = client::ws_url(&self.url)?;
        Ok(format!("http://{authority}"))
    }

    /// `GET /api/metrics/history?minutes=N`.
    pub fn history_url(&self) -> Result<String> {
        Ok(format!(
            "{}/api/metrics/history?minutes={}",
            self.http_base()?,
            self.history_minutes
        ))
    }

    pub fn search_params(&self) -> Value {
        json!({ "search": self.search })
    }

    pub fn chat_params(&self) -> Value {
        json!({ "sessionKey": self.big_session, "limit": self.big_limit })
    }
}

/// A GET that answered other than 200: refused, with the start of the body.
fn refused(f: &Fetched) -> String {
    let body = String::from_utf8_lossy(&f.body);
    format!(
        "HTTP {}: {}",
        f.status,
        body.chars().take(200).collect::<String>()
    )
}

/// One heavy read. Outer error: the transport failed (reconnect); inner: refused.
async fn read_once(
    kind: Read,
    plan: &HeavyPlan,
    history_url: &str,
    ws: &mut Ws,
    http: &reqwest::Client,
    id: &str,
) -> Result<std::result::Result<(), String>> {
    Ok(match kind {
        Read::History => {
            let f = rpc::get(http, history_url, &plan.token, READ_TIMEOUT).await?;
            if f.status == 200 {
                Ok(())
            } else {
                Err(refused(&f))
            }
        }
        Read::Search => {
            let p = plan.search_params();
            rpc::call(ws, id, "sessions.list", Some(&p), READ_TIMEOUT)
                .await?
                .map(drop)
        }
        Read::ChatHistory => {
            let p = plan.chat_params();
            rpc::call(ws, id, "chat.history", Some(&p), READ_TIMEOUT)
                .await?
                .map(drop)
        }
    })
}

/// One load client: cycles through the reads (starting at its own offset) until `stop`.
async fn client_loop(
    index: usize,
    plan: Arc<HeavyPlan>,
    http: reqwest::Client,
    stop: Arc<AtomicBool>,
) -> Result<Vec<Samples>> {
    let history_url = plan.history_url()?;
    let mut ws = client::connect(&plan.url, &plan.token, HANDSHAKE_TIMEOUT).await?;
    let mut stats = vec![Samples::default(); Read::ALL.len()];
    let mut n = index;
    while !stop.load(Ordering::Acquire) {
        let slot = n % Read::ALL.len();
        let kind = Read::ALL[slot];
        n += 1;
        let started = Instant::now();
        match read_once(kind, &plan, &history_url, &mut ws, &http, &n.to_string()).await {
            Ok(Ok(())) => stats[slot].samples.push(started.elapsed()),
            Ok(Err(e)) => stats[slot].fail(e),
            Err(e) => {
                stats[slot].fail(format!("{e:#}"));
                if kind != Read::History {
                    ws = client::connect(&plan.url, &plan.token, HANDSHAKE_TIMEOUT)
                        .await
                        .context("reconnecting a load client")?;
                }
            }
        }
    }
    Ok(stats)
}

/// `health` round trips on a fresh socket for `limit`, one every `gap`.
async fn probe(plan: &HeavyPlan, limit: Duration) -> Result<Samples> {
    let mut ws = client::connect(&plan.url, &plan.token, HANDSHAKE_TIMEOUT).await?;
    let mut stats = Samples::default();
    let deadline = Instant::now() + limit;
    let mut i = 0u64;
    while Instant::now() < deadline {
        i += 1;
        let started = Instant::now();
        match rpc::call(
            &mut ws,
            &format!("h{i}"),
            "health",
            None,
            Duration::from_secs(5),
        )
        .await?
        {
            Ok(_) => stats.samples.push(started.elapsed()),
            Err(e) => stats.fail(e),
        }
        tokio::time::sleep(plan.probe_gap).await;
    }
    Ok(stats)
}

/// What the loaded phase measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// `health` on the probe socket.
    pub health: Samples,
    /// One per [`Read::ALL`], in that order.
    pub reads: Vec<Samples>,
    pub secs: f64,
}

/// Starts the clients, lets the load settle for a second, probes `health` for `plan.load`,
/// then stops the clients (each finishes its read in flight, bounded).
pub async fn run_load(plan: &HeavyPlan, http: &reqwest::Client) -> Result<LoadReport> {
    if plan.clients == 0 {
        bail!("--clients must be at least 1");
    }
    let shared = Arc::new(plan.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..plan.clients)
        .map(|i| tokio::spawn(client_loop(i, shared.clone(), http.clone(), stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let health = probe(plan, plan.load).await;
    stop.store(true, Ordering::Release);
    let mut reads = vec![Samples::default(); Read::ALL.len()];
    for t in tasks {
        let got = tokio::time::timeout(READ_TIMEOUT * 2, t)
            .await
            .context("a load client did not stop within 60 s")?
            .context("a load client panicked")??;
        for (acc, s) in reads.iter_mut().zip(got) {
            acc.merge(s);
        }
    }
    Ok(LoadReport {
        health: health?,
        reads,
        secs: started.elapsed().as_secs_f64(),
    })
}

/// `n` fresh connections one after another: each timed from TCP connect to hello-ok.
pub async fn handshakes(plan: &HeavyPlan, n: usize) -> Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let mut ws = client::connect(&plan.url, &plan.token, HANDSHAKE_TIMEOUT).await?;
        out.push(started.elapsed());
        let _ = ws.close(None).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(out)
}

/// One 30-day history without other load: latency, body size, and the points it holds.
pub async fn history_idle(plan: &HeavyPlan, http: &reqwest::Client) -> Result<(Fetched, usize)> {
    let url = plan.history_url()?;
    let f = rpc::get(http, &url, &plan.token, READ_TIMEOUT).await?;
    if f.status != 200 {
        bail!("GET {url}: {}", refused(&f));
    }
    let v: Value =
        serde_json::from_slice(&f.body).with_context(|| format!("GET {url}: not JSON"))?;
    let points = v["points"]
        .as_array()
        .map(Vec::len)
        .or_else(|| v["t"].as_array().map(Vec::len))
        .unwrap_or(0);
    Ok((f, points))
}

/// Checks the data is what the bench expects before measuring: the big session's history
/// length and the number of sessions the search matches.
pub async fn verify(plan: &HeavyPlan) -> Result<(usize, usize)> {
    let mut ws = client::connect(&plan.url, &plan.token, HANDSHAKE_TIMEOUT).await?;
    let p = plan.chat_params();
    let h = rpc::call(&mut ws, "v1", "chat.history", Some(&p), READ_TIMEOUT)
        .await?
        .map_err(|e| anyhow::anyhow!("chat.history {p}: {e}"))?;
    let messages = h["messages"].as_array().map(Vec::len).unwrap_or(0);
    if messages == 0 {
        bail!(
            "chat.history of {} returned no messages: seed the data dir first",
            plan.big_session
        );
    }
    let p = plan.search_params();
    let s = rpc::call(&mut ws, "v2", "sessions.list", Some(&p), READ_TIMEOUT)
        .await?
        .map_err(|e| anyhow::anyhow!("sessions.list {p}: {e}"))?;
    let found = s["sessions"].as_array().map(Vec::len).unwrap_or(0);
    let _ = ws.close(None).await;
    Ok((messages, found))
}
