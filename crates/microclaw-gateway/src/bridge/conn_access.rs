//! Access that holds for the whole life of a connection (engine-core issue, item 4): every
//! request is charged against the key's rate limit (RATE_LIMITED, the socket stays open) and
//! the credential is rechecked on every request, every [`RECHECK_EVERY`] and on each
//! revocation event (the connection loop runs the periodic check, see `connection.rs`); a
//! credential that is no longer valid closes the socket with 1008.

use super::errors::BridgeError;
use super::frames::Request;
use super::methods::MethodCtx;
use super::outbound_queue::{Outbound, CLOSE_POLICY};
use std::time::Duration;

/// The close reason when the credential behind a connection is gone.
pub const REVOKED_REASON: &str = "credential revoked or expired";

/// How often an idle connection's credential is rechecked (the check is cached briefly, so a
/// change made by another process is seen within about this long plus the cache lifetime).
pub const RECHECK_EVERY: Duration = Duration::from_secs(1);

/// Charges one request to the principal's rate limit; false (after answering RATE_LIMITED
/// with `retryAfterMs`) when it is over.
pub fn charge(ctx: &MethodCtx, out: &Outbound, req: &Request) -> bool {
    match ctx.engine.charge_request(&ctx.principal) {
        Ok(()) => true,
        Err(e) => {
            out.respond(ctx.proto, &req.id, Err(BridgeError::Op(e)));
            false
        }
    }
}

/// Rechecks the credential; false (after queueing close 1008) when it is no longer valid.
pub async fn recheck(ctx: &MethodCtx, out: &Outbound) -> bool {
    match ctx.engine.recheck_principal(&ctx.principal).await {
        Ok(()) => true,
        Err(e) if e.code == microclaw_core::ErrorCode::Unauthorized => {
            tracing::info!("bridge connection closed: {}", e.message);
            out.close(CLOSE_POLICY, REVOKED_REASON);
            false
        }
        Err(e) => {
            // The store could not answer (busy, shutting down): not a verdict on the key.
            tracing::debug!("credential recheck failed: {e}");
            true
        }
    }
}
