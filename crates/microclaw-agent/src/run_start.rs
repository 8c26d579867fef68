//! Getting a run going: placing a message in its session's lane (start now or queue), the
//! begin write (session, user message, run row) on the store's writer thread, spawning the run
//! task, and starting queued runs when slots free up (runs that never start end in
//! `run_unstarted.rs`).

use crate::agent::{Agent, AgentRequest};
use crate::run_registry::{Core, HISTORY_MESSAGES, PRUNE_EVERY, QUEUE_RETRY_MS};
use crate::run_state::{Queued, RunEntry, RunHandle};
use crate::run_task::{drive, RunCtx};
use crate::run_types::{QueueMode, RunOptions, RunOutcome, StartOutcome, StartRun, StartStatus};
use crate::run_unstarted::{end_unstarted, end_unstarted_silently};
use microclaw_core::{normalize_session_key, Error, Result};
use microclaw_store::RunBegin;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;

enum Placed {
    Start(Box<Queued>),
    Queued(usize),
    Existing(StartOutcome),
}

pub(crate) async fn start(
    core: &Arc<Core>,
    req: StartRun,
    opts: RunOptions,
) -> Result<StartOutcome> {
    let key = normalize_session_key(Some(&req.session_key))?;
    if req.message.trim().is_empty() {
        return Err(Error::invalid("message must be a non-empty string"));
    }
    let idem = req
        .idempotency_key
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if let Some(idem) = &idem {
        if let Some(out) = existing_in_memory(&core.state.lock(), &key, idem) {
            return Ok(out);
        }
        let (k, i) = (key.clone(), idem.clone());
        if let Some(row) = core
            .store
            .read_async(move |s| s.run_by_idempotency(&k, &i))
            .await?
        {
            return Ok(existing(row.run_id, StartStatus::Started));
        }
    }
    let agent = match req.agent_id.as_deref() {
        Some(id) => Some(core.agents.resolve(Some(id))?),
        None => None,
    };
    let fallback = core.agents.resolve(None)?;
    // Refused while a cap it would run under is exhausted (UNAVAILABLE, BUDGET_EXCEEDED).
    if let Some(guard) = core.budget.get() {
        let agent_id = agent.as_ref().unwrap_or(&fallback).id().to_string();
        guard.admit(&key, &agent_id).await?;
    }
    let run_id = opts
        .run_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let (done_tx, done_rx) = watch::channel(None);
    let (gate_tx, gate_rx) = oneshot::channel();
    let q = Queued {
        run_id: run_id.clone(),
        req: StartRun {
            session_key: key,
            idempotency_key: idem,
            ..req
        },
        opts,
        agent,
        fallback,
        handle: RunHandle {
            cancel: CancellationToken::new(),
            reason: Arc::new(Mutex::new(None)),
            discard: Arc::new(AtomicBool::new(false)),
            usage: Arc::default(),
        },
        gate: gate_rx,
        done: done_tx,
    };
    let outcome = |status, queue_position| StartOutcome {
        run_id: run_id.clone(),
        existing: false,
        status,
        queue_position,
        gate: Some(gate_tx),
    };
    match place(core, q, done_rx)? {
        Placed::Existing(out) => Ok(out),
        Placed::Queued(pos) => Ok(outcome(StartStatus::Accepted, pos)),
        Placed::Start(q) => {
            launch(core.clone(), *q, false).await?;
            Ok(outcome(StartStatus::Started, 0))
        }
    }
}

fn existing_in_memory(st: &crate::run_state::State, key: &str, idem: &str) -> Option<StartOutcome> {
    let run_id = st.idem.get(&(key.to_string(), idem.to_string()))?;
    let active = st.runs.get(run_id).is_none_or(|r| r.active);
    let status = if active {
        StartStatus::Started
    } else {
        StartStatus::Accepted
    };
    Some(existing(run_id.clone(), status))
}

fn existing(run_id: String, status: StartStatus) -> StartOutcome {
    StartOutcome {
        run_id,
        existing: true,
        status,
        queue_position: 0,
        gate: None,
    }
}

/// Under the lock: refuses (shutdown, pause, full queue), or marks the run active, or queues it.
fn place(core: &Core, q: Queued, done: watch::Receiver<Option<RunOutcome>>) -> Result<Placed> {
    let mut guard = core.state.lock();
    let st = &mut *guard;
    if st.shutting_down {
        return Err(Error::unavailable(
            "gateway is shutting down: no new runs are accepted",
        ));
    }
    let key = q.req.session_key.clone();
    if st.paused.contains(&key) {
        return Err(Error::conflict(format!(
            "session '{key}' is paused: send a control message with action \"resume\" first"
        )));
    }
    if let Some(idem) = &q.req.idempotency_key {
        if let Some(out) = existing_in_memory(st, &key, idem) {
            return Ok(Placed::Existing(out));
        }
    }
    if let Some(r) = st.runs.get(&q.run_id) {
        // A caller-chosen run id (OpenClaw's idempotencyKey) already live: that run.
        let status = if r.active {
            StartStatus::Started
        } else {
            StartStatus::Accepted
        };
        return Ok(Placed::Existing(existing(q.run_id.clone(), status)));
    }
    let lane = st.lanes.entry(key.clone()).or_default();
    let busy = lane.active.is_some() || !lane.queue.is_empty();
    let start_now = !busy && st.active_count < core.max_active;
    if !start_now && lane.queue.len() >= core.queue_bound {
        let depth = lane.queue.len();
        return Err(Error {
            retry_after_ms: Some(QUEUE_RETRY_MS),
            ..Error::unavailable(format!(
                "session '{key}' already has {depth} messages queued behind its active run \
                 (sessions.max_queued_per_session = {}): retry when the queue has room, or abort \
                 the active run",
                core.queue_bound
            ))
        });
    }
    let interrupt = q.req.queue_mode == Some(QueueMode::Interrupt);
    st.runs.insert(
        q.run_id.clone(),
        RunEntry {
            session_key: key.clone(),
            agent_id: q
                .agent
                .as_ref()
                .map(|a| a.id().to_string())
                .unwrap_or_default(),
            started_at: core.clock.now_ms(),
            handle: q.handle.clone(),
            done,
            idempotency_key: q.req.idempotency_key.clone(),
            active: start_now,
        },
    );
    if let Some(idem) = &q.req.idempotency_key {
        st.idem
            .insert((key.clone(), idem.clone()), q.run_id.clone());
    }
    if start_now {
        lane.active = Some(q.run_id.clone());
        st.active_count += 1;
        return Ok(Placed::Start(Box::new(q)));
    }
    if interrupt {
        if let Some(active) = lane.active.as_ref().and_then(|id| st.runs.get(id)) {
            if !active.handle.cancel.is_cancelled() {
                let reason = crate::run_registry::REASON_INTERRUPTED.to_string();
                active.handle.reason.lock().get_or_insert(reason);
                active.handle.cancel.cancel();
            }
        }
    }
    let was_empty = lane.queue.is_empty();
    let pos = if interrupt {
        lane.queue.push_front(q);
        0
    } else {
        lane.queue.push_back(q);
        lane.queue.len() - 1
    };
    if was_empty && lane.active.is_none() {
        st.ready.push_back(key);
    }
    Ok(Placed::Queued(pos))
}

/// Stores the user message and the run row (unless the run was cancelled first), then spawns
/// the run task. On failure the run is ended (a terminal `error` event when `announce`).
pub(crate) async fn launch(core: Arc<Core>, q: Queued, announce: bool) -> Result<()> {
    let key = q.req.session_key.clone();
    let begin = RunBegin {
        run_id: q.run_id.clone(),
        session_key: key.clone(),
        idempotency_key: q.req.idempotency_key.clone(),
        message: q.req.message.clone(),
        history_limit: HISTORY_MESSAGES,
        now: core.clock.now_ms(),
    };
    let (discard, cancel) = (q.handle.discard.clone(), q.handle.cancel.clone());
    let begun = core
        .store
        .write_async(move |s| {
            // Checked on the writer thread: a delete/reset queued after the discard flag was
            // set runs after this, so a discarded run never writes its user message.
            if discard.load(Ordering::SeqCst) || cancel.is_cancelled() {
                return Ok(None);
            }
            s.run_begin(&begin).map(Some)
        })
        .await;
    let begun = match begun {
        Ok(Some(b)) => b,
        Ok(None) => {
            let reason = q.handle.reason.lock().clone();
            end_unstarted(&core, q, true, reason.as_deref().unwrap_or("aborted"));
            return Ok(());
        }
        Err(e) => {
            if announce {
                end_unstarted(&core, q, false, &format!("could not start the run: {e}"));
            } else {
                end_unstarted_silently(&core, &q);
            }
            return Err(e);
        }
    };
    if core.begun.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == 0 {
        let c = core.clone();
        tokio::spawn(async move {
            if let Err(e) = c.prune().await {
                tracing::warn!(error = %e, "could not prune finished runs");
            }
        });
    }
    core.session_changed(&key, if begun.created { "created" } else { "updated" });
    let agent: Arc<dyn Agent> = q
        .agent
        .clone()
        .or_else(|| begun.agent_id.as_deref().and_then(|id| core.agents.get(id)))
        .unwrap_or_else(|| q.fallback.clone());
    {
        let mut st = core.state.lock();
        if let Some(e) = st.runs.get_mut(&q.run_id) {
            e.agent_id = agent.id().to_string();
            e.started_at = core.clock.now_ms();
        }
    }
    core.metrics.run_started();
    core.publish_active_sessions();
    let timeout_secs = q
        .req
        .timeout_secs
        .filter(|s| *s > 0)
        .unwrap_or(core.default_timeout_secs);
    let (tool_events, tool_rx) = crate::run_agent_events::ToolEvents::channel();
    let model = q
        .opts
        .model
        .clone()
        .unwrap_or_else(|| agent.model().to_string());
    let ctx = RunCtx {
        run_id: q.run_id.clone(),
        session_key: key.clone(),
        generation: begun.generation,
        model,
        started_at_ms: core.clock.now_ms(),
        tool_rx: Some(tool_rx),
        agent,
        request: AgentRequest {
            run_id: q.run_id,
            session_key: key,
            message: q.req.message,
            history: begun
                .history
                .into_iter()
                .map(|m| (m.role, m.text))
                .collect(),
            thinking_level: q.opts.thinking.unwrap_or(begun.thinking_level),
            model: q.opts.model,
            tool_events: Some(tool_events),
        },
        timeout: (timeout_secs > 0).then(|| Duration::from_secs(timeout_secs)),
        timeout_secs,
        handle: q.handle,
        started: tokio::time::Instant::now(),
        done: q.done,
    };
    tokio::spawn(drive(core.clone(), ctx, q.gate));
    Ok(())
}

/// Starts the queued runs that may run now (called whenever a run ends or leaves its lane).
pub(crate) fn pump(core: &Arc<Core>) {
    let ready = core.state.lock().take_startable(core.max_active);
    for q in ready {
        let core = core.clone();
        tokio::spawn(async move {
            let run_id = q.run_id.clone();
            if let Err(e) = launch(core, q, true).await {
                tracing::warn!(run_id = %run_id, error = %e, "a queued run could not start");
            }
        });
    }
}
