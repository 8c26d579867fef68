//! What the engine keeps for tools written for OpenClaw (Mission Control): token use per
//! session from finished runs ([`UsageBook`]) and the opt-in mirror of OpenClaw's state dir
//! (`compat.openclaw_state_dir`: `agents/<agent>/sessions/sessions.json`). See
//! docs/mission-control.md.

mod mirror;
pub mod openclaw_sessions;
mod session_usage;
mod watch_list;

pub use mirror::{mirror_file, MAX_MIRRORED_SESSIONS};
pub use session_usage::{RunUsage, SessionUsage, UsageBook, MAX_TRACKED_SESSIONS};
pub use watch_list::{WatchList, MAX_WATCHED_SESSIONS};

use crate::{Engine, EngineEvent};
use microclaw_agent::AgentEventData;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Starts the loop (from `Engine::start_background`): counts finished runs' tokens and, when
/// the mirror is on, rewrites the file at most once per `compat.mirror_debounce_ms` after
/// a change (and once at start). It stops with `stop`.
pub(crate) fn spawn(engine: Arc<Engine>, stop: CancellationToken) {
    let mut rx = engine.subscribe();
    let path = mirror_file(&engine.config().compat);
    let debounce = std::time::Duration::from_millis(engine.config().compat.mirror_debounce_ms);
    tokio::spawn(async move {
        if let Some(path) = &path {
            mirror::seed_from_file(&engine, path).await;
            tracing::info!("compat: mirroring sessions to {}", path.display());
        }
        // When the next mirror write is due (None: nothing changed since the last one).
        let mut due: Option<Instant> = path.as_ref().map(|_| Instant::now());
        loop {
            let wait = async {
                match due {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            let changed = tokio::select! {
                _ = stop.cancelled() => break,
                _ = wait => {
                    due = None;
                    if let Some(path) = &path {
                        mirror::write(&engine, path).await;
                    }
                    false
                }
                ev = rx.recv() => match ev {
                    Ok(EngineEvent::Shutdown { .. }) => {
                        // The store is still open: write what is pending now.
                        if let (Some(path), Some(_)) = (&path, due.take()) {
                            mirror::write(&engine, path).await;
                        }
                        false
                    }
                    Ok(EngineEvent::Closed) => break,
                    Ok(ev) => note(&engine, &ev),
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!("compat: {n} engine events missed: token counts of their runs are not counted");
                        true
                    }
                    Err(RecvError::Closed) => break,
                },
            };
            if changed && path.is_some() && due.is_none() {
                due = Some(Instant::now() + debounce);
            }
        }
    });
}

/// Applies one event to the usage book; true when the mirrored rows may have changed.
fn note(engine: &Engine, ev: &EngineEvent) -> bool {
    match ev {
        EngineEvent::SessionsChanged { key, reason, .. } => {
            if *reason == "deleted" {
                engine.session_usage().forget(key);
                engine.watched_sessions().forget(key);
            }
            true
        }
        EngineEvent::Agent(ev) if matches!(ev.data, AgentEventData::End { .. }) => {
            let Some(o) = engine.runs().snapshot(&ev.run_id) else {
                return false;
            };
            let Some(session_id) = o.session_id.as_deref() else {
                return false;
            };
            engine.session_usage().add_run(&RunUsage {
                session_key: &o.session_key,
                session_id,
                input_tokens: o.input_tokens,
                output_tokens: o.output_tokens,
                model: &o.model,
                provider: &o.provider,
                cost_usd: o.usage.as_ref().and_then(|u| u.cost_usd),
                now: engine.now_ms(),
            });
            true
        }
        _ => false,
    }
}
