//! `logs.tail`: the newest lines of the gateway's own log ring (OpenClaw's params; the cursor
//! is a line number, see docs/protocol.md).

use super::methods::{HandlerResult, MethodCtx, Reply};
use super::params::Params;
use microclaw_engine::ops::logs::{self, TailParams, MAX_LIMIT, MAX_MAX_BYTES};

pub async fn tail(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let params = TailParams {
        cursor: p.int_opt("cursor", 0, i64::MAX)?,
        limit: p.int_opt("limit", 1, MAX_LIMIT)?,
        max_bytes: p.int_opt("maxBytes", 1, MAX_MAX_BYTES)?,
    };
    Reply::serialized(&logs::tail(&ctx.engine, params).await?)
}
