//! Runs that never started: queued messages dropped by kill/delete/abort/shutdown, and runs
//! whose begin write was skipped (cancelled first) or failed. Each ends with an outcome for
//! `wait` and one terminal `chat` event and one `agent` lifecycle event (after its release
//! gate); nothing is stored.

use crate::run_agent_events::{AgentEventData, AgentStream};
use crate::run_registry::Core;
use crate::run_start::pump;
use crate::run_state::Queued;
use crate::run_task::RELEASE_TIMEOUT;
use crate::run_types::{ChatEvent, ChatState, RunOutcome, StopReason};
use std::sync::Arc;

/// Drops the session's queued runs matching `pred` (each ends `aborted` with `reason`,
/// nothing stored); returns their ids.
pub(crate) fn drop_queued(
    core: &Arc<Core>,
    key: &str,
    reason: &str,
    pred: impl Fn(&Queued) -> bool,
) -> Vec<String> {
    let taken = core.state.lock().drain_queued(key, pred);
    let ids: Vec<String> = taken.iter().map(|q| q.run_id.clone()).collect();
    for q in taken {
        finish_unstarted(core, q, ChatState::Aborted, reason.to_string());
    }
    if !ids.is_empty() {
        core.changed.notify_waiters();
    }
    ids
}

/// A run that was active in its lane but never began (cancelled first, or its begin write
/// failed): frees the lane, then ends it like a dropped queued run.
pub(crate) fn end_unstarted(core: &Arc<Core>, q: Queued, aborted: bool, message: &str) {
    {
        let mut st = core.state.lock();
        st.end_active(&q.req.session_key, &q.run_id);
        st.remove_run(&q.run_id);
    }
    let state = if aborted {
        ChatState::Aborted
    } else {
        ChatState::Error
    };
    finish_unstarted(core, q, state, message.to_string());
    core.changed.notify_waiters();
    pump(core);
}

/// As [`end_unstarted`] for a run whose caller gets the error itself: no event.
pub(crate) fn end_unstarted_silently(core: &Arc<Core>, q: &Queued) {
    {
        let mut st = core.state.lock();
        st.end_active(&q.req.session_key, &q.run_id);
        st.remove_run(&q.run_id);
    }
    core.changed.notify_waiters();
    pump(core);
}

/// Records the outcome of a run that never ran and, once its gate is released, emits its one
/// terminal event (clients that were told `accepted` learn how it ended).
fn finish_unstarted(core: &Arc<Core>, q: Queued, state: ChatState, message: String) {
    let stop_reason = match state {
        ChatState::Error => StopReason::Error,
        _ => StopReason::Aborted,
    };
    let now = core.clock.now_ms();
    let outcome = RunOutcome {
        run_id: q.run_id.clone(),
        session_key: q.req.session_key.clone(),
        state,
        text: String::new(),
        error_message: Some(message.clone()),
        stop_reason: Some(stop_reason),
        persisted: false,
        input_tokens: 0,
        output_tokens: 0,
        latency_ms: 0,
        agent_id: q
            .agent
            .as_ref()
            .map(|a| a.id().to_string())
            .unwrap_or_default(),
        provider: String::new(),
        model: String::new(),
        session_id: None,
        started_at: now,
        ended_at: now,
        usage: None,
    };
    let mut agent = AgentStream {
        run_id: q.run_id.clone(),
        session_key: q.req.session_key.clone(),
        session_id: None,
        agent_id: outcome.agent_id.clone(),
        seq: 0,
    };
    let lifecycle = AgentEventData::End {
        started_at: None,
        ended_at: now,
        state,
        error: Some(message.clone()),
        stop_reason: Some(stop_reason),
    };
    core.state.lock().remember(outcome.clone(), now);
    q.done.send_replace(Some(outcome));
    let ev = ChatEvent {
        run_id: q.run_id,
        session_key: q.req.session_key,
        seq: 1,
        state,
        delta: None,
        text: Some(Arc::from("")),
        text_len: 0,
        error_message: Some(message),
        stop_reason: Some(stop_reason),
        usage: None,
    };
    let events = core.events.clone();
    let sink = core.agent_sink.get().cloned();
    let gate = q.gate;
    let emit = move || {
        agent.emit(sink.as_ref(), now, lifecycle);
        let _ = events.send(ev);
    };
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => {
            rt.spawn(async move {
                let _ = tokio::time::timeout(RELEASE_TIMEOUT, gate).await;
                emit();
            });
        }
        // Outside a runtime nobody can be holding a gate across an await: emit now.
        Err(_) => emit(),
    }
}
