//! Building the router and serving it on a bound listener until `shutdown` resolves.

use crate::bridge::limits::SocketCounts;
use crate::origin::OriginPolicy;
use crate::state::AppState;
use axum::serve::{ListenerExt, TapIo};
use axum::Router;
use microclaw_engine::Engine;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// How long the stop waits, after the engine stopped, for bridge sockets to send their close.
const BRIDGE_DRAIN: Duration = Duration::from_secs(3);

/// The whole app for `engine`, answering as `local` (the listener's address).
pub fn router(engine: Arc<Engine>, local: SocketAddr) -> Router {
    router_with(engine, local).0
}

fn router_with(engine: Arc<Engine>, local: SocketAddr) -> (Router, Arc<SocketCounts>) {
    let origins = Arc::new(OriginPolicy::new(local, &engine.config().server));
    let sockets = SocketCounts::new(engine.config().server.max_unauthenticated_connections);
    let state = AppState {
        engine,
        origins,
        sockets: sockets.clone(),
    };
    let app = crate::http::routes(state.clone()).merge(crate::root::routes(state));
    (app, sockets)
}

/// The listener as [`serve`] accepts from it: every accepted socket gets `TCP_NODELAY`
/// (small frames and responses go out at once instead of waiting up to ~40 ms for the
/// peer's delayed ACK).
pub fn accepting(listener: TcpListener) -> TapIo<TcpListener, fn(&mut TcpStream)> {
    listener.tap_io(set_nodelay as fn(&mut TcpStream))
}

fn set_nodelay(tcp: &mut TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!("cannot set TCP_NODELAY on an accepted socket: {e}");
    }
}

/// Serves until `shutdown` resolves. Then it stops accepting at once (the listener is
/// closed: new connections are refused), stops the engine gracefully (clients get the
/// `shutdown` event, runs end within the grace period, metrics are flushed, the database is
/// closed), lets open HTTP requests finish and bridge sockets close (1001), and returns.
pub async fn serve(
    listener: TcpListener,
    engine: Arc<Engine>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let (app, sockets) = router_with(engine.clone(), local);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!("graceful shutdown started: no longer accepting connections");
        let _ = stop_tx.send(());
    };
    // The engine stops beside the server, not before it stops accepting.
    let stopping = engine.clone();
    let engine_stop = tokio::spawn(async move {
        if stop_rx.await.is_ok() {
            stopping.shutdown("server stopping").await;
            true
        } else {
            false
        }
    });
    let served = axum::serve(
        accepting(listener),
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal)
    .await;
    if served.is_err() {
        engine_stop.abort();
        return served;
    }
    if matches!(engine_stop.await, Ok(true)) && !sockets.wait_closed(BRIDGE_DRAIN).await {
        tracing::warn!(
            open = sockets.open(),
            "bridge sockets still open after the stop: dropping them"
        );
    }
    served
}
