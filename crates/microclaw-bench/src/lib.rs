//! Benchmark tooling for the MicroClaw gateway (issues 2, 3, 4 and 6): not part of the product.
//!
//! - [`client`]: a bridge client that completes the handshake (challenge → connect → hello-ok).
//! - [`sequential`], [`pipelined`], [`idle`], [`startup`]: the load shapes `bridge-load` runs.
//! - [`floor`]: a WebSocket server that answers every request without doing anything (the floor).
//! - [`seed`]: bulk-fills a data dir's database with sessions and messages; [`seed_metrics`]
//!   writes minute metrics history through the store's write API.
//! - [`heavy_reads`]: `health` latency while clients loop the heaviest reads (issue 10), over
//!   [`rpc`] (a bridge call that keeps the payload, an authenticated GET).
//! - [`db_rows`]: row counts per table, to show a read path wrote nothing.
//! - [`search_pages`]: search (FTS5 message text), list and history page latency (issue 17).
//!
//! Every figure is printed as a `key=value` line so the scripts in `scripts/bench/` can grep it.

pub mod client;
pub mod db_rows;
pub mod floor;
pub mod frames;
pub mod heavy_reads;
pub mod idle;
pub mod pipelined;
pub mod proc_cpu;
pub mod proc_status;
pub mod rpc;
pub mod search_pages;
pub mod seed;
pub mod seed_metrics;
pub mod sequential;
pub mod startup;
pub mod stats;
