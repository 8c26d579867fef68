//! What every handler gets: the engine, the listener's origin policy and its bridge sockets.

use crate::bridge::limits::SocketCounts;
use crate::origin::OriginPolicy;
use microclaw_engine::Engine;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub origins: Arc<OriginPolicy>,
    /// Open bridge sockets (the unauthenticated cap; the graceful stop waits for them).
    pub sockets: Arc<SocketCounts>,
}
