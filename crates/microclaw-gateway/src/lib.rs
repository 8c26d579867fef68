//! The gateway: the operator HTTP API, the WebSocket bridge at `GET /` (with upgrade) and the
//! embedded web UI, all on one listener. `serve(listener, engine, shutdown)` runs it.

pub mod bridge;
pub mod http;
mod origin;
mod root;
mod server;
mod state;
mod ui_assets;

pub use origin::OriginPolicy;
pub use server::{accepting, router, serve};
pub use state::AppState;
