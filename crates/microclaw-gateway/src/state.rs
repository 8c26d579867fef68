//! What every handler gets: the engine and the listener's origin policy.

use crate::origin::OriginPolicy;
use microclaw_engine::Engine;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub origins: Arc<OriginPolicy>,
}
