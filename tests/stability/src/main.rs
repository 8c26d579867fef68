//! `stability`: the driver of `scripts/ci/stability_smoke.sh`. Starts the release binary in
//! fresh data dirs and proves the runbook's stability promises (issue 6), one `PASS name` /
//! `FAIL name: why` / `SKIPPED name: why` line per check, then `N passed, N failed, N skipped`,
//! and `report.json`.

mod bridge;
mod checks;
mod cli;
mod env;
mod http;
mod procfs;
mod report;
mod server;

use env::Env;
use report::Report;
use std::path::PathBuf;
use std::process::ExitCode;

struct Args {
    bin: PathBuf,
    out: PathBuf,
    external: Option<PathBuf>,
    only: Option<Vec<String>>,
    cycles: usize,
    seed: u64,
}

const USAGE: &str = "usage: stability [--bin target/release/microclaw] [--out target/stability] \
[--external FILE] [--only crash,throttle,hostile,load,slow_reader,churn,shutdown,slo,security] \
[--cycles 20] [--seed N]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        bin: PathBuf::from("target/release/microclaw"),
        out: PathBuf::from("target/stability"),
        external: None,
        only: None,
        cycles: 20,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(1),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--bin" => a.bin = PathBuf::from(value()?),
            "--out" => a.out = PathBuf::from(value()?),
            "--external" => a.external = Some(PathBuf::from(value()?)),
            "--only" => a.only = Some(value()?.split(',').map(|s| s.trim().to_string()).collect()),
            "--cycles" => {
                a.cycles = value()?
                    .parse()
                    .map_err(|_| "--cycles: expected a number".to_string())?
            }
            "--seed" => {
                a.seed = value()?
                    .parse()
                    .map_err(|_| "--seed: expected a number".to_string())?
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if !a.bin.is_file() {
        return Err(format!(
            "{} does not exist: build it with `cargo build --release -p microclaw-cli`",
            a.bin.display()
        ));
    }
    a.bin = std::fs::canonicalize(&a.bin).map_err(|e| format!("{}: {e}", a.bin.display()))?;
    Ok(a)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("cannot create {}: {e}", args.out.display());
        return ExitCode::from(2);
    }
    let env = match Env::new(args.bin.clone(), args.out.clone()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut report = Report::default();
    report.meta.insert("seed".into(), args.seed.into());
    report.meta.insert("cycles".into(), args.cycles.into());
    report
        .meta
        .insert("binary".into(), args.bin.display().to_string().into());
    if let Some(path) = &args.external {
        if let Err(e) = report.ingest_external(path) {
            report.record("external_results", 3, Err(e), 0.0);
        }
    }
    let plan = checks::Plan {
        cycles: args.cycles,
        seed: args.seed,
        only: args.only.clone(),
    };
    checks::run_all(&env, &mut report, &plan).await;
    let summary = report.summary_line();
    if let Err(e) = report.write_json(&env.report_path()) {
        eprintln!("{e}");
    }
    println!("{summary}");
    // Skipped checks do not fail the run, but a run where nothing passed proves nothing.
    if report.failed() == 0 && report.passed() > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
