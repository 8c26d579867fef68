//! `search-pages --data-dir D --sessions N --messages M [--history-messages H] [--skip-seed]
//! [--iterations I]`: seeds D/microclaw.db (unless --skip-seed) and prints the issue 17 store
//! figures (see `microclaw_bench::search_pages`) as key=value lines.

use clap::Parser;
use microclaw_bench::seed::{db_path_in, seed, SeedPlan};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "search-pages",
    about = "Time search, list and history pages on a seeded MicroClaw database"
)]
struct Cli {
    /// The data dir (the database is DATA_DIR/microclaw.db); seed a fresh one.
    #[arg(long)]
    data_dir: PathBuf,
    #[arg(long, default_value_t = 100_000)]
    sessions: usize,
    #[arg(long, default_value_t = 1_000_000)]
    messages: usize,
    /// Messages in the one big session (part of --messages).
    #[arg(long, default_value_t = 100_000)]
    history_messages: usize,
    /// Measure a database seeded earlier with the same --sessions/--messages.
    #[arg(long)]
    skip_seed: bool,
    #[arg(long, default_value_t = 200)]
    iterations: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let plan = SeedPlan {
        db_path: db_path_in(&cli.data_dir),
        sessions: cli.sessions,
        messages: cli.messages,
        history_key: "bench-history".into(),
        history_messages: cli.history_messages,
        key_prefix: "bench-".into(),
    };
    if !cli.skip_seed {
        if let Err(e) = std::fs::create_dir_all(&cli.data_dir) {
            eprintln!("search-pages: creating {}: {e}", cli.data_dir.display());
            return ExitCode::FAILURE;
        }
        match seed(&plan) {
            Ok(r) => println!("search_pages_seed_secs={:.1}", r.secs),
            Err(e) => {
                eprintln!("search-pages: {e:#}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Ok(meta) = std::fs::metadata(&plan.db_path) {
        println!("search_pages_db_bytes={}", meta.len());
    }
    match microclaw_bench::search_pages::run(&plan, cli.iterations) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("search-pages: {e:#}");
            ExitCode::FAILURE
        }
    }
}
