//! Building the router and serving it on a bound listener until `shutdown` resolves.

use crate::origin::OriginPolicy;
use crate::state::AppState;
use axum::Router;
use microclaw_engine::Engine;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

/// The whole app for `engine`, answering as `local` (the listener's address).
pub fn router(engine: Arc<Engine>, local: SocketAddr) -> Router {
    let origins = Arc::new(OriginPolicy::new(local, &engine.config().server));
    let state = AppState { engine, origins };
    crate::http::routes(state.clone()).merge(crate::root::routes(state))
}

/// Serves until `shutdown` resolves, then stops the engine gracefully (clients get the
/// `shutdown` event, runs end, metrics are flushed, the database is closed) and waits for
/// the open connections to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    engine: Arc<Engine>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let app = router(engine.clone(), local);
    let stopping = engine.clone();
    let signal = async move {
        shutdown.await;
        tracing::info!("graceful shutdown started");
        stopping.shutdown("server stopping").await;
    };
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal)
    .await
}
