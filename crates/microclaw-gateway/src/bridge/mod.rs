//! The operator bridge: one WebSocket at `GET /` speaking protocols 3 and 4
//! (`shared/spec/gateway-protocol.md` §1–6). The router hands upgraded sockets to
//! [`serve_socket`]; everything else is transport-independent and runs over any
//! `Sink`/`Stream` of messages ([`connection::run_connection`]).

mod agent_events;
mod cached_reads;
mod chat_events;
mod conn_access;
mod conn_events;
mod connect_params;
pub mod connection;
#[cfg(test)]
mod connection_tests;
mod device_auth;
pub(crate) mod devices_connected;
pub mod errors;
pub mod frames;
mod handlers_agent;
mod handlers_alerts;
mod handlers_approvals;
mod handlers_channels;
mod handlers_cron;
mod handlers_devices;
mod handlers_export;
pub(crate) mod handlers_fleet;
mod handlers_incidents;
mod handlers_info;
mod handlers_logs;
mod handlers_runs;
mod handlers_session_control;
mod handlers_sessions;
mod handlers_usage;
mod handshake;
mod hello;
pub mod limits;
pub mod methods;
mod outbound_queue;
mod params;
mod tick_snapshot;

use futures_util::StreamExt;
use std::sync::Arc;

/// What the router knows about a connection before the protocol starts.
#[derive(Debug, Clone)]
pub struct ConnContext {
    pub peer: std::net::SocketAddr,
    /// A logged-in browser's principal (from the session cookie), used when `connect` carries
    /// no credentials of its own.
    pub cookie_principal: Option<microclaw_engine::Principal>,
    /// The client's host as the router saw it (presence `host`).
    pub remote_host: String,
    /// This socket's place among the listener's bridge sockets (marked authenticated once
    /// `connect` succeeds; released when the connection ends).
    pub slot: Option<Arc<limits::SocketSlot>>,
    /// The origin of a page on loopback or a private network other than ours: its login
    /// cookie was not honoured, so `connect` must carry credentials (named in the refusal).
    pub foreign_origin: Option<String>,
}

/// Runs one upgraded bridge socket to its end. The socket is split here, before the
/// connection's future is built, and that future is boxed: the upgrade task then holds a
/// pointer, not a second copy of the socket and the context.
pub fn serve_socket(
    engine: Arc<microclaw_engine::Engine>,
    socket: axum::extract::ws::WebSocket,
    ctx: ConnContext,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    let limits = limits::Limits::from_config(&engine.config().server);
    let (sink, stream) = socket.split();
    Box::pin(connection::run_connection(
        engine, sink, stream, ctx, limits,
    ))
}
