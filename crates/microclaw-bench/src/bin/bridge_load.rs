//! `bridge-load`: load shapes against a bridge (the gateway or the floor server), figures
//! printed as `key=value` lines.
//!
//! ```text
//! bridge-load seq     --url ws://127.0.0.1:P/ --token K [--method health] [--count 20000]
//! bridge-load pipe    --url … --token K --method sessions.list [--conns 8 --depth 64 --secs 5]
//! bridge-load idle    --url … --token K [--count 2000] [--pid SERVER_PID]
//! bridge-load startup --token K [--runs 5] -- /path/to/microclaw start --port 0 --data-dir D
//! ```

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use microclaw_bench::frames::parse_params;
use microclaw_bench::idle::{self, IdlePlan};
use microclaw_bench::pipelined::{self, PipelinedPlan};
use microclaw_bench::startup::{self, StartupPlan};
use microclaw_bench::{client, proc_cpu, rpc, sequential, stats};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "bridge-load",
    about = "Load the MicroClaw bridge and print key=value figures"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Sequential round trips on one connection (latency p50/p99).
    Seq(SeqArgs),
    /// Pipelined throughput: N connections × depth requests in flight for a fixed time.
    Pipe(PipeArgs),
    /// Hold many idle connections after their handshakes; read the server's RSS.
    Idle(IdleArgs),
    /// Spawn the gateway and time the first answered RPC from spawn.
    Startup(StartupArgs),
}

#[derive(Args)]
struct Target {
    /// Bridge URL (ws://HOST:PORT/ or http://HOST:PORT/).
    #[arg(long)]
    url: String,
    /// API key for the connect request.
    #[arg(long, env = "BENCH_TOKEN", hide_env_values = true)]
    token: String,
    /// Prefix of every printed key (e.g. `gateway` or `floor`).
    #[arg(long, default_value = "gateway")]
    label: String,
}

#[derive(Args)]
struct Call {
    /// Bridge method to call.
    #[arg(long, default_value = "health")]
    method: String,
    /// Params as a JSON object, e.g. '{"sessionKey":"bench-history","limit":50}'.
    #[arg(long)]
    params: Option<String>,
    /// Name in the printed keys (default: the method with dots as underscores).
    #[arg(long)]
    name: Option<String>,
}

impl Call {
    fn name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.method.replace('.', "_"))
    }
}

#[derive(Args)]
struct SeqArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    call: Call,
    #[arg(long, default_value_t = 2000)]
    warmup: usize,
    #[arg(long, default_value_t = 20_000)]
    count: usize,
}

#[derive(Args)]
struct PipeArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    call: Call,
    #[arg(long, default_value_t = 8)]
    conns: usize,
    #[arg(long, default_value_t = 64)]
    depth: usize,
    /// Measured window in seconds (a 1 s unmeasured warm-up run comes first).
    #[arg(long, default_value_t = 5.0)]
    secs: f64,
    /// The server's process id: prints its CPU per answered request (from `/proc/PID/stat`).
    #[arg(long)]
    pid: Option<u32>,
    /// Also count the rows of one reply (its first array field, e.g. `sessions`) and print
    /// the server CPU per returned row.
    #[arg(long)]
    rows: bool,
}

#[derive(Args)]
struct IdleArgs {
    #[command(flatten)]
    target: Target,
    #[arg(long, default_value_t = 2000)]
    count: usize,
    /// Handshakes in flight at once while opening.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds to hold after the last handshake before reading the server's memory.
    #[arg(long, default_value_t = 2.0)]
    settle_secs: f64,
    /// The server's process id (its VmRSS is read from /proc).
    #[arg(long)]
    pid: Option<u32>,
    /// Stop opening after this many seconds even if not all are open (reported as timed out).
    #[arg(long, default_value_t = 120.0)]
    max_open_secs: f64,
}

#[derive(Args)]
struct StartupArgs {
    #[arg(long, env = "BENCH_TOKEN", hide_env_values = true)]
    token: String,
    #[arg(long, default_value = "gateway")]
    label: String,
    /// Launches to measure (the median and the minimum are printed).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// The gateway command line, after `--`.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse().cmd).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bridge-load: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cmd: Cmd) -> Result<()> {
    match cmd {
        Cmd::Seq(a) => seq(a).await,
        Cmd::Pipe(a) => pipe(a).await,
        Cmd::Idle(a) => idle_hold(a).await,
        Cmd::Startup(a) => startup_runs(a).await,
    }
}

async fn seq(a: SeqArgs) -> Result<()> {
    let params = parse_params(a.call.params.as_deref())?;
    let mut ws = client::connect(&a.target.url, &a.target.token, Duration::from_secs(10)).await?;
    let r = sequential::run(
        &mut ws,
        &a.call.method,
        params.as_ref(),
        a.warmup,
        a.count,
        Duration::from_secs(10),
    )
    .await?;
    let prefix = format!("{}_{}_seq", a.target.label, a.call.name());
    stats::print_summary(&prefix, &r.latency);
    println!("{prefix}_errors={}", r.errors);
    if let Some(e) = r.first_error {
        println!("{prefix}_first_error={e}");
    }
    Ok(())
}

async fn pipe(a: PipeArgs) -> Result<()> {
    if !(a.secs > 0.0 && a.secs <= 600.0) {
        bail!("--secs {}: expected more than 0 and at most 600", a.secs);
    }
    let mut plan = PipelinedPlan {
        url: a.target.url.clone(),
        token: a.target.token.clone(),
        method: a.call.method.clone(),
        params: parse_params(a.call.params.as_deref())?,
        conns: a.conns,
        depth: a.depth,
        duration: Duration::from_secs(1),
        server_pid: a.pid,
    };
    pipelined::run(&plan).await.context("warm-up run")?;
    plan.duration = Duration::from_secs_f64(a.secs);
    let r = pipelined::run(&plan).await?;
    let prefix = format!("{}_{}_pipe", a.target.label, a.call.name());
    println!("{prefix}_conns={}", a.conns);
    println!("{prefix}_depth={}", a.depth);
    println!("{prefix}_secs={:.1}", r.secs);
    println!("{prefix}_ok={}", r.ok);
    println!("{prefix}_errors={}", r.errors);
    println!("{prefix}_rps={:.0}", r.rps());
    let per_req = r
        .server_cpu_secs
        .and_then(|cpu| proc_cpu::micros_per(cpu, r.ok + r.errors));
    if let (Some(cpu), Some(us)) = (r.server_cpu_secs, per_req) {
        println!("{prefix}_server_cpu_secs={cpu:.2}");
        println!("{prefix}_server_cpu_us_per_req={us:.2}");
    }
    if a.rows {
        let rows = reply_rows(&a.target, &a.call).await?;
        println!("{prefix}_rows_per_reply={rows}");
        if let (Some(us), true) = (per_req, rows > 0) {
            println!("{prefix}_server_cpu_us_per_row={:.3}", us / rows as f64);
        }
    }
    if let Some(e) = r.first_error {
        println!("{prefix}_first_error={e}");
    }
    Ok(())
}

/// The length of the first array field of one reply's payload (`sessions`, `messages`, …).
async fn reply_rows(target: &Target, call: &Call) -> Result<usize> {
    let params = parse_params(call.params.as_deref())?;
    let mut ws = client::connect(&target.url, &target.token, Duration::from_secs(10)).await?;
    let payload = rpc::call(
        &mut ws,
        "rows-1",
        &call.method,
        params.as_ref(),
        Duration::from_secs(10),
    )
    .await?
    .map_err(|e| anyhow::anyhow!("{} failed: {e}", call.method))?;
    let rows = payload
        .as_object()
        .and_then(|o| o.values().find_map(|v| v.as_array().map(Vec::len)))
        .with_context(|| format!("{} reply has no array field to count rows in", call.method))?;
    Ok(rows)
}

async fn idle_hold(a: IdleArgs) -> Result<()> {
    if !(0.0..=600.0).contains(&a.settle_secs) {
        bail!("--settle-secs {}: expected 0..=600", a.settle_secs);
    }
    if !(a.max_open_secs > 0.0 && a.max_open_secs <= 3600.0) {
        bail!(
            "--max-open-secs {}: expected more than 0 and at most 3600",
            a.max_open_secs
        );
    }
    let plan = IdlePlan {
        url: a.target.url,
        token: a.target.token,
        count: a.count,
        concurrency: a.concurrency,
        settle: Duration::from_secs_f64(a.settle_secs),
        server_pid: a.pid,
        max_open: Duration::from_secs_f64(a.max_open_secs),
    };
    let r = idle::run(&plan).await?;
    let p = format!("{}_idle", a.target.label);
    println!("{p}_requested={}", a.count);
    println!("{p}_opened={}", r.opened);
    println!("{p}_failed={}", r.failed);
    println!("{p}_still_open={}", r.still_open);
    println!("{p}_open_secs={:.2}", r.open_secs);
    println!("{p}_timed_out={}", u8::from(r.timed_out));
    if let Some(kb) = r.rss_before_kb {
        println!("{p}_rss_before_kb={kb}");
    }
    if let Some(kb) = r.rss_anon_held_kb {
        println!("{p}_rss_anon_held_kb={kb}");
    }
    if let Some(kb) = r.rss_held_kb {
        println!("{p}_rss_held_kb={kb}");
    }
    if let Some(e) = r.first_failure {
        println!("{p}_first_failure={e}");
    }
    Ok(())
}

async fn startup_runs(a: StartupArgs) -> Result<()> {
    let (program, args) = a
        .command
        .split_first()
        .context("no gateway command given after --")?;
    let plan = StartupPlan {
        program: program.clone(),
        args: args.to_vec(),
        env: Vec::new(),
        token: a.token,
        timeout: Duration::from_secs(30),
    };
    let mut port_lines = Vec::new();
    let mut first_rpcs = Vec::new();
    for i in 0..a.runs.max(1) {
        let s = startup::measure_once(&plan)
            .await
            .with_context(|| format!("launch {}", i + 1))?;
        port_lines.push(s.port_line);
        first_rpcs.push(s.first_rpc);
    }
    let p = format!("{}_startup", a.label);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (rpc, line) = (
        stats::summarize(&mut first_rpcs).context("no launches")?,
        stats::summarize(&mut port_lines).context("no launches")?,
    );
    println!("{p}_runs={}", rpc.count);
    println!("{p}_first_rpc_ms_median={:.1}", rpc.p50_us / 1e3);
    println!("{p}_first_rpc_ms_min={:.1}", ms(first_rpcs[0]));
    println!("{p}_first_rpc_ms_max={:.1}", rpc.max_us / 1e3);
    println!("{p}_port_line_ms_median={:.1}", line.p50_us / 1e3);
    Ok(())
}
