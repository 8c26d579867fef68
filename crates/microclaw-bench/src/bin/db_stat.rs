//! `db-stat --data-dir D`: prints `db_rows_<table>=N` for every table of D/microclaw.db,
//! read-only (scripts diff two runs to see whether a read path wrote).

use clap::Parser;
use microclaw_bench::{db_rows::table_rows, seed::db_path_in};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "db-stat", about = "Row counts of every table, read-only")]
struct Cli {
    #[arg(long)]
    data_dir: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match table_rows(&db_path_in(&cli.data_dir)) {
        Ok(rows) => {
            for (table, n) in rows {
                println!("db_rows_{table}={n}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("db-stat: {e:#}");
            ExitCode::FAILURE
        }
    }
}
