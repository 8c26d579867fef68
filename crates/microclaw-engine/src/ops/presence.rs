//! `system-presence` / `GET /api/presence`: the connected clients, newest first. The lists
//! pushed in hello-ok and `presence` events stop at [`crate::presence::PRESENCE_LIST_MAX`];
//! this read gives the rest (up to [`MAX_LIMIT`] entries) and the total.

use crate::presence::{PresencePage, PRESENCE_FULL_MAX};
use crate::Engine;
use microclaw_core::{Error, Result};

pub const DEFAULT_LIMIT: i64 = 200;
pub const MAX_LIMIT: i64 = PRESENCE_FULL_MAX as i64;

/// `{count, presence:[{instanceId, host, mode, platform, version, ts}]}` with at most `limit`
/// entries (default [`DEFAULT_LIMIT`]).
pub fn list(engine: &Engine, limit: Option<i64>) -> Result<PresencePage> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid(format!(
            "limit = {limit}: expected an integer from 1 to {MAX_LIMIT}"
        )));
    }
    Ok(engine.presence().page(limit as usize))
}
