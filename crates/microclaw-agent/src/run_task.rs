//! One run from release to terminal event: drives the agent, emits `chat` events in order,
//! enforces the timeout, persists the reply and records the run's metrics exactly once.

use crate::agent::{estimate_tokens, Agent, AgentRequest, AgentUsage};
use crate::run_registry::{Core, REASON_ABORTED};
use crate::run_types::{ChatEvent, ChatState, RunOutcome};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Longest a run waits for its [`crate::StartOutcome`] to be released (a safety net for a
/// caller that holds the outcome while waiting for the run, which would otherwise deadlock).
pub const RELEASE_TIMEOUT: Duration = Duration::from_secs(2);
/// Chunks buffered between an agent and its run task.
const CHUNK_BUFFER: usize = 64;

pub(crate) struct RunCtx {
    pub(crate) run_id: String,
    pub(crate) session_key: String,
    pub(crate) agent: Arc<dyn Agent>,
    pub(crate) request: AgentRequest,
    pub(crate) timeout: Option<Duration>,
    pub(crate) timeout_secs: u64,
    pub(crate) cancel: CancellationToken,
    pub(crate) reason: Arc<Mutex<Option<String>>>,
    pub(crate) started: Instant,
    pub(crate) done: watch::Sender<Option<RunOutcome>>,
}

/// How the agent loop ended.
struct End {
    state: ChatState,
    error: Option<String>,
    usage: Option<AgentUsage>,
}

impl End {
    fn new(state: ChatState, error: Option<String>) -> End {
        End {
            state,
            error,
            usage: None,
        }
    }
}

struct Emitter<'a> {
    core: &'a Core,
    ctx: &'a RunCtx,
    seq: u32,
    text: String,
    first_token: bool,
}

impl Emitter<'_> {
    fn event(&mut self, state: ChatState, delta: Option<String>, error: Option<String>) {
        self.seq += 1;
        let ev = ChatEvent {
            run_id: self.ctx.run_id.clone(),
            session_key: self.ctx.session_key.clone(),
            seq: self.seq,
            state,
            delta,
            text: self.text.clone(),
            error_message: error,
        };
        // No subscriber is fine: nobody is watching.
        let _ = self.core.events.send(ev);
    }

    fn delta(&mut self, chunk: String) {
        if chunk.is_empty() {
            return;
        }
        if !self.first_token {
            self.first_token = true;
            self.core
                .metrics
                .run_first_token(self.ctx.started.elapsed().as_millis() as u64);
        }
        self.text.push_str(&chunk);
        self.event(ChatState::Delta, Some(chunk), None);
    }
}

/// Waits for the release gate (or a cancel), runs the agent and finishes the run.
pub(crate) async fn drive(core: Arc<Core>, ctx: RunCtx, gate: oneshot::Receiver<()>) {
    tokio::select! {
        biased;
        _ = ctx.cancel.cancelled() => {}
        _ = gate => {}
        _ = tokio::time::sleep(RELEASE_TIMEOUT) => {
            tracing::warn!(run_id = %ctx.run_id, "start outcome held for {RELEASE_TIMEOUT:?} without release: starting the run anyway");
        }
    }
    let mut em = Emitter {
        core: &core,
        ctx: &ctx,
        seq: 0,
        text: String::new(),
        first_token: false,
    };
    let end = run_agent(&ctx, &mut em).await;
    finish(&core, &ctx, em, end);
}

async fn run_agent(ctx: &RunCtx, em: &mut Emitter<'_>) -> End {
    let (tx, mut rx) = mpsc::channel::<String>(CHUNK_BUFFER);
    let agent_cancel = ctx.cancel.child_token();
    let mut handle = tokio::spawn(ctx.agent.run(ctx.request.clone(), tx, agent_cancel.clone()));
    let deadline = async {
        match ctx.timeout {
            Some(t) => tokio::time::sleep_until(ctx.started + t).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let end = loop {
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => {
                let reason = ctx.reason.lock().clone().unwrap_or_else(|| REASON_ABORTED.to_string());
                break End::new(ChatState::Aborted, Some(reason));
            }
            _ = &mut deadline => {
                break End::new(ChatState::Error, Some(format!("run timed out after {} s", ctx.timeout_secs)));
            }
            Some(chunk) = rx.recv() => em.delta(chunk),
            joined = &mut handle => {
                // The agent is done: take what it sent before returning.
                while let Ok(chunk) = rx.try_recv() {
                    em.delta(chunk);
                }
                break match joined {
                    Ok(Ok(usage)) => End { state: ChatState::Final, error: None, usage: Some(usage) },
                    Ok(Err(msg)) => End::new(ChatState::Error, Some(msg)),
                    Err(e) => End::new(ChatState::Error, Some(format!("agent task failed: {e}"))),
                };
            }
        }
    };
    agent_cancel.cancel();
    handle.abort();
    end
}

fn finish(core: &Core, ctx: &RunCtx, mut em: Emitter<'_>, end: End) {
    let now = core.clock.now_ms();
    let text = em.text.clone();
    if !text.is_empty() {
        if let Err(e) = core
            .store
            .message_append(&ctx.session_key, "assistant", &text, now)
        {
            tracing::warn!(run_id = %ctx.run_id, error = %e, "could not persist the assistant message");
        }
    }
    if let Err(e) =
        core.store
            .run_finish(&ctx.run_id, end.state.as_str(), end.error.as_deref(), now)
    {
        tracing::warn!(run_id = %ctx.run_id, error = %e, "could not record the end of the run");
    }
    let latency_ms = ctx.started.elapsed().as_millis() as u64;
    let (input_tokens, output_tokens) = match end.usage {
        Some(u) => (u.input_tokens, u.output_tokens),
        None => (
            estimate_tokens(&ctx.request.message),
            estimate_tokens(&text),
        ),
    };
    core.metrics
        .run_finished(end.state.as_str(), latency_ms, input_tokens, output_tokens);
    let outcome = RunOutcome {
        run_id: ctx.run_id.clone(),
        session_key: ctx.session_key.clone(),
        state: end.state,
        text,
        error_message: end.error.clone(),
        input_tokens,
        output_tokens,
        latency_ms,
    };
    {
        let mut st = core.state.lock();
        st.remove_run(&ctx.run_id);
        st.remember(outcome.clone());
    }
    core.publish_active_sessions();
    ctx.done.send_replace(Some(outcome));
    em.event(end.state, None, end.error);
    core.changed.notify_waiters();
}
