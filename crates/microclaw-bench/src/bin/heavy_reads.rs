//! `heavy-reads`: the engine-core benchmark (issue 10) against a running gateway seeded with
//! `seed --sessions 50000 … --metrics-minutes 43200`. Prints `key=value` figures:
//!
//! ```text
//! heavy-reads --url http://127.0.0.1:P/ --token K [--clients 4] [--secs 20] [--handshakes 40]
//! ```
//!
//! Idle first (a 30-day history: latency and size; fresh handshakes connect → hello-ok), then
//! `health` p50/p99/max on its own socket while the clients loop the heavy reads.

use anyhow::Result;
use clap::Parser;
use microclaw_bench::heavy_reads::{self, HeavyPlan, Read, Samples};
use microclaw_bench::stats::{print_summary, summarize};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "heavy-reads",
    about = "health latency while clients loop the heaviest reads; handshakes; 30-day history"
)]
struct Cli {
    /// The gateway (http://HOST:PORT/).
    #[arg(long)]
    url: String,
    /// An operator.admin API key.
    #[arg(long, env = "BENCH_TOKEN", hide_env_values = true)]
    token: String,
    /// Prefix of every printed key.
    #[arg(long, default_value = "engine_core")]
    label: String,
    /// Clients looping the heavy reads.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Seconds `health` is measured under the load.
    #[arg(long, default_value_t = 20)]
    secs: u64,
    /// Fresh handshakes measured one after another (idle).
    #[arg(long, default_value_t = 40)]
    handshakes: usize,
    /// 30-day history requests measured idle (after one warm-up).
    #[arg(long, default_value_t = 20)]
    history_reps: usize,
    #[arg(long, default_value_t = 43_200)]
    history_minutes: u32,
    /// `sessions.list` search text.
    #[arg(long, default_value = "project 777")]
    search: String,
    #[arg(long, default_value = "bench-big")]
    big_session: String,
    #[arg(long, default_value_t = 1000)]
    big_limit: u32,
    /// Milliseconds between two `health` probes.
    #[arg(long, default_value_t = 2)]
    probe_gap_ms: u64,
}

fn print_samples(prefix: &str, s: &Samples) {
    let mut v = s.samples.clone();
    match summarize(&mut v) {
        Some(sum) => print_summary(prefix, &sum),
        None => println!("{prefix}_count=0"),
    }
    println!("{prefix}_errors={}", s.errors);
    if let Some(e) = &s.first_error {
        eprintln!("heavy-reads: {prefix}: first error: {e}");
    }
}

async fn run(cli: Cli) -> Result<()> {
    let plan = HeavyPlan {
        url: cli.url,
        token: cli.token,
        clients: cli.clients,
        load: Duration::from_secs(cli.secs),
        history_minutes: cli.history_minutes,
        search: cli.search,
        big_session: cli.big_session,
        big_limit: cli.big_limit,
        probe_gap: Duration::from_millis(cli.probe_gap_ms),
    };
    let l = &cli.label;
    let http = reqwest::Client::builder().tcp_nodelay(true).build()?;
    let (messages, found) = heavy_reads::verify(&plan).await?;
    println!("{l}_chat_history_messages={messages}");
    println!("{l}_sessions_search_page={found}");

    let mut history = Samples::default();
    let mut size = (0, 0);
    for i in 0..cli.history_reps + 1 {
        let (f, points) = heavy_reads::history_idle(&plan, &http).await?;
        if i > 0 {
            history.samples.push(f.took); // the first one warms the caches
        }
        size = (f.body.len(), points);
    }
    print_samples(&format!("{l}_history_30d_idle"), &history);
    println!("{l}_history_30d_bytes={}", size.0);
    println!("{l}_history_30d_points={}", size.1);

    let hs = Samples {
        samples: heavy_reads::handshakes(&plan, cli.handshakes).await?,
        ..Samples::default()
    };
    print_samples(&format!("{l}_handshake"), &hs);

    eprintln!(
        "heavy-reads: {} clients looping the heavy reads, health probed for {} s",
        plan.clients, cli.secs
    );
    let report = heavy_reads::run_load(&plan, &http).await?;
    println!("{l}_load_clients={}", plan.clients);
    println!("{l}_probe_secs={}", cli.secs);
    println!("{l}_load_secs={:.1}", report.secs);
    print_samples(&format!("{l}_health_under_load"), &report.health);
    for (read, s) in Read::ALL.iter().zip(&report.reads) {
        print_samples(&format!("{l}_load_{}", read.name()), s);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("heavy-reads: {e:#}");
            ExitCode::FAILURE
        }
    }
}
