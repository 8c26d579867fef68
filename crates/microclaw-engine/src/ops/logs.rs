//! `logs.tail` / `GET /api/logs`: the newest lines of the gateway's own log ring
//! (see [`crate::log_ring`]), continued by line-number cursor.

use crate::log_ring::Tail;
use crate::Engine;
use microclaw_core::{Error, Result};

pub const DEFAULT_LIMIT: i64 = 500;
pub const MAX_LIMIT: i64 = 5_000;
pub const DEFAULT_MAX_BYTES: i64 = 250_000;
pub const MAX_MAX_BYTES: i64 = 1_000_000;

/// The parameters as received (absent = default); every value is range-checked here.
#[derive(Debug, Clone, Copy, Default)]
pub struct TailParams {
    pub cursor: Option<i64>,
    pub limit: Option<i64>,
    pub max_bytes: Option<i64>,
}

fn in_range(field: &str, v: Option<i64>, default: i64, lo: i64, hi: i64) -> Result<i64> {
    let v = v.unwrap_or(default);
    if !(lo..=hi).contains(&v) {
        return Err(Error::invalid(format!(
            "{field} = {v}: expected an integer from {lo} to {hi}"
        )));
    }
    Ok(v)
}

/// `{file, cursor, size, lines, truncated, reset}`: lines numbered `cursor` and later (all held
/// lines without one), at most `limit` lines and `maxBytes` bytes, the newest kept.
pub async fn tail(engine: &Engine, p: TailParams) -> Result<Tail> {
    let cursor = match p.cursor {
        None => None,
        Some(c) => Some(in_range("cursor", Some(c), 0, 0, i64::MAX)? as u64),
    };
    let limit = in_range("limit", p.limit, DEFAULT_LIMIT, 1, MAX_LIMIT)? as usize;
    let max_bytes =
        in_range("maxBytes", p.max_bytes, DEFAULT_MAX_BYTES, 1, MAX_MAX_BYTES)? as usize;
    Ok(engine.log_ring().tail(cursor, limit, max_bytes))
}
