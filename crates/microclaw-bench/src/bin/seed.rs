//! `seed --data-dir D --sessions N --messages M [--history-key K --history-messages H]
//! [--metrics-minutes MIN]`: bulk-fills D/microclaw.db (see `microclaw_bench::seed`, and
//! `microclaw_bench::seed_metrics` for the minute history) and prints key=value figures.

use clap::Parser;
use microclaw_bench::seed::{db_path_in, seed, SeedPlan};
use microclaw_bench::seed_metrics::seed_metrics;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "seed",
    about = "Fill a MicroClaw data dir with sessions and messages"
)]
struct Cli {
    /// The gateway's data dir (the database is DATA_DIR/microclaw.db).
    #[arg(long)]
    data_dir: PathBuf,
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    #[arg(long, default_value_t = 200)]
    messages: usize,
    /// The session whose history the bench reads.
    #[arg(long, default_value = "bench-history")]
    history_key: String,
    /// Messages that go to the history session (part of --messages).
    #[arg(long, default_value_t = 200)]
    history_messages: usize,
    /// Prefix of the other sessions' keys.
    #[arg(long, default_value = "bench-")]
    key_prefix: String,
    /// Also write this many minutes of metrics history (up to 43200 = 30 days), ending now.
    #[arg(long, default_value_t = 0)]
    metrics_minutes: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let plan = SeedPlan {
        db_path: db_path_in(&cli.data_dir),
        sessions: cli.sessions,
        messages: cli.messages,
        history_key: cli.history_key,
        history_messages: cli.history_messages,
        key_prefix: cli.key_prefix,
    };
    match seed(&plan) {
        Ok(r) => {
            println!("seed_sessions={}", r.sessions);
            println!("seed_messages={}", r.messages);
            println!("seed_history_key={}", plan.history_key);
            println!("seed_secs={:.1}", r.secs);
        }
        Err(e) => {
            eprintln!("seed: {e:#}");
            return ExitCode::FAILURE;
        }
    }
    if cli.metrics_minutes == 0 {
        return ExitCode::SUCCESS;
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    match seed_metrics(&plan.db_path, cli.metrics_minutes, now_ms) {
        Ok(r) => {
            println!("seed_metrics_minutes={}", r.minutes);
            println!("seed_metrics_first_bucket_ms={}", r.first_bucket_ms);
            println!("seed_metrics_last_bucket_ms={}", r.last_bucket_ms);
            println!("seed_metrics_secs={:.1}", r.secs);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seed: {e:#}");
            ExitCode::FAILURE
        }
    }
}
