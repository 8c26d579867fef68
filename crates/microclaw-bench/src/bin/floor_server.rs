//! `floor-server [--port P]`: the no-work WebSocket server (see `microclaw_bench::floor`).
//! Prints `listening on ws://127.0.0.1:PORT/` first, then serves until killed.

use clap::Parser;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "floor-server",
    about = "A bridge-shaped WebSocket server that does no work"
)]
struct Cli {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", cli.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("floor-server: cannot listen on 127.0.0.1:{}: {e}", cli.port);
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on ws://{addr}/"),
        Err(e) => {
            eprintln!("floor-server: {e}");
            return ExitCode::FAILURE;
        }
    }
    if let Err(e) = microclaw_bench::floor::serve(listener).await {
        eprintln!("floor-server: accept failed: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
