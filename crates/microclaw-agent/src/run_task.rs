//! One run from release to terminal event: drives the agent, emits coalesced `chat` deltas in
//! order (and the run's `agent` events beside them), enforces the timeout, persists the reply (only into the generation the run started
//! in), records the run's metrics exactly once and hands the session's slot to the next run.

use crate::agent::{Agent, AgentRequest, AgentUsage};
use crate::budget_guard::{MeterStart, RunUsage};
use crate::delta_coalescer::Coalescer;
use crate::run_agent_events::{AgentEventData, AgentStream, ToolEvent};
use crate::run_meter::Metering;
use crate::run_registry::{Core, REASON_ABORTED};
use crate::run_state::RunHandle;
use crate::run_types::{ChatEvent, ChatState, RunOutcome, StopReason};
use microclaw_store::{RunEnd, RunReply, UsageRecord};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// Longest a run waits for its [`crate::StartOutcome`] to be released (a safety net for a
/// caller that holds the outcome while waiting for the run, which would otherwise deadlock).
pub const RELEASE_TIMEOUT: Duration = Duration::from_secs(2);
/// Chunks buffered between an agent and its run task.
const CHUNK_BUFFER: usize = 64;

pub(crate) struct RunCtx {
    pub(crate) run_id: String,
    pub(crate) session_key: String,
    /// The session generation the run began in (its reply is appended only while current).
    pub(crate) generation: String,
    /// The model the run talks to (an override, or the agent's own).
    pub(crate) model: String,
    /// Registry-clock ms when the run began.
    pub(crate) started_at_ms: i64,
    /// The agent's tool calls (taken by the run loop).
    pub(crate) tool_rx: Option<mpsc::UnboundedReceiver<ToolEvent>>,
    pub(crate) agent: Arc<dyn Agent>,
    pub(crate) request: AgentRequest,
    pub(crate) timeout: Option<Duration>,
    pub(crate) timeout_secs: u64,
    pub(crate) handle: RunHandle,
    pub(crate) started: Instant,
    pub(crate) done: watch::Sender<Option<RunOutcome>>,
}

/// How the agent loop ended.
struct End {
    state: ChatState,
    error: Option<String>,
    stop: Option<StopReason>,
    usage: Option<AgentUsage>,
}

impl End {
    fn new(state: ChatState, stop: StopReason, error: String) -> End {
        End {
            state,
            error: Some(error),
            stop: Some(stop),
            usage: None,
        }
    }
}

struct Emitter<'a> {
    core: &'a Core,
    ctx: &'a RunCtx,
    seq: u32,
    co: Coalescer,
    first_token: bool,
    agent: AgentStream,
}

impl Emitter<'_> {
    fn agent_event(&mut self, data: AgentEventData) {
        let ts = self.core.clock.now_ms();
        self.agent.emit(self.core.agent_sink.get(), ts, data);
    }

    fn send(&mut self, mut ev: ChatEvent) {
        self.seq += 1;
        ev.seq = self.seq;
        // No subscriber is fine: nobody is watching.
        let _ = self.core.events.send(ev);
    }

    fn blank(&self, state: ChatState) -> ChatEvent {
        ChatEvent {
            run_id: self.ctx.run_id.clone(),
            session_key: self.ctx.session_key.clone(),
            seq: 0,
            state,
            delta: None,
            text: None,
            text_len: 0,
            error_message: None,
            stop_reason: None,
            usage: None,
        }
    }

    fn chunk(&mut self, chunk: String) {
        if chunk.is_empty() {
            return;
        }
        if !self.first_token {
            self.first_token = true;
            self.core
                .metrics
                .run_first_token(self.ctx.started.elapsed().as_millis() as u64);
        }
        let now = Instant::now();
        if self.co.push(&chunk, now) {
            self.flush(now);
        }
    }

    fn flush(&mut self, now: Instant) {
        if let Some(d) = self.co.take(now) {
            let mut ev = self.blank(ChatState::Delta);
            ev.delta = Some(d.chunk.clone());
            ev.text = d.cumulative.clone();
            ev.text_len = d.len;
            self.send(ev);
            self.agent_event(AgentEventData::Assistant {
                text: d.cumulative,
                delta: d.chunk,
            });
        }
    }
}

/// Waits for the release gate (or a cancel), runs the agent and finishes the run.
pub(crate) async fn drive(core: Arc<Core>, mut ctx: RunCtx, gate: oneshot::Receiver<()>) {
    tokio::select! {
        biased;
        _ = ctx.handle.cancel.cancelled() => {}
        _ = gate => {}
        _ = tokio::time::sleep(RELEASE_TIMEOUT) => {
            tracing::warn!(run_id = %ctx.run_id, "start outcome held for {RELEASE_TIMEOUT:?} without release: starting the run anyway");
        }
    }
    let tool_rx = ctx.tool_rx.take();
    let agent = AgentStream {
        run_id: ctx.run_id.clone(),
        session_key: ctx.session_key.clone(),
        session_id: Some(ctx.generation.clone()),
        agent_id: ctx.agent.id().to_string(),
        seq: 0,
    };
    let mut em = Emitter {
        core: &core,
        ctx: &ctx,
        seq: 0,
        co: Coalescer::default(),
        first_token: false,
        agent,
    };
    em.agent_event(AgentEventData::Start {
        started_at: ctx.started_at_ms,
    });
    // The budget keeper meters the run; a queued run may find its cap exhausted by now.
    let begun = match core.budget.get() {
        Some(guard) => guard
            .begin(MeterStart {
                run_id: ctx.run_id.clone(),
                session_key: ctx.session_key.clone(),
                agent_id: ctx.agent.id().to_string(),
                model: ctx.model.clone(),
            })
            .await
            .map(Some),
        None => Ok(None),
    };
    let (end, mut metering) = match begun {
        Ok(meter) => {
            let mut metering = Metering::new(
                meter,
                &ctx.request,
                ctx.handle.usage.clone(),
                core.clock.clone(),
            );
            (
                run_agent(&ctx, &mut em, tool_rx, &mut metering).await,
                metering,
            )
        }
        Err(stop) => {
            let m = Metering::new(
                None,
                &ctx.request,
                ctx.handle.usage.clone(),
                core.clock.clone(),
            )
            .nothing_sent();
            (End::new(ChatState::Aborted, stop.reason, stop.message), m)
        }
    };
    em.flush(Instant::now());
    let Emitter { seq, co, agent, .. } = em;
    let text = co.text;
    let usage = metering.settle(end.usage);
    finish(&core, ctx, seq, text, end, agent, usage).await;
}

/// The next tool event, or never when the run has no tool channel (or it closed).
async fn next_tool(rx: &mut Option<mpsc::UnboundedReceiver<ToolEvent>>) -> ToolEvent {
    match rx {
        Some(rx) => match rx.recv().await {
            Some(ev) => ev,
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

async fn run_agent(
    ctx: &RunCtx,
    em: &mut Emitter<'_>,
    mut tool_rx: Option<mpsc::UnboundedReceiver<ToolEvent>>,
    metering: &mut Metering,
) -> End {
    let (tx, mut rx) = mpsc::channel::<String>(CHUNK_BUFFER);
    let agent_cancel = ctx.handle.cancel.child_token();
    let mut handle = tokio::spawn(ctx.agent.run(ctx.request.clone(), tx, agent_cancel.clone()));
    let deadline = async {
        match ctx.timeout {
            Some(t) => tokio::time::sleep_until(ctx.started + t).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    // Far enough that it never fires while nothing is pending.
    let idle = Instant::now() + Duration::from_secs(86_400 * 365);
    let end = loop {
        let flush_at = em.co.due_at(Instant::now());
        tokio::select! {
            biased;
            _ = ctx.handle.cancel.cancelled() => {
                let reason = ctx.handle.reason.lock().clone().unwrap_or_else(|| REASON_ABORTED.to_string());
                break End::new(ChatState::Aborted, StopReason::Aborted, reason);
            }
            _ = &mut deadline => {
                let msg = format!("run timed out after {} s", ctx.timeout_secs);
                break End::new(ChatState::Error, StopReason::Timeout, msg);
            }
            _ = tokio::time::sleep_until(flush_at.unwrap_or(idle)), if flush_at.is_some() => {
                em.flush(Instant::now());
            }
            // Before chunks: an agent reports a tool event before the chunk that follows it.
            tool = next_tool(&mut tool_rx) => {
                // The text before the call goes out first, so the stream reads in order.
                em.flush(Instant::now());
                let started = matches!(tool, ToolEvent::Start { .. });
                em.agent_event(tool.into());
                if let Some(stop) = started.then(|| metering.tool_call()).flatten() {
                    break End::new(ChatState::Aborted, stop.reason, stop.message);
                }
            }
            Some(chunk) = rx.recv() => {
                let stop = metering.chunk(&chunk);
                em.chunk(chunk);
                if let Some(stop) = stop {
                    break End::new(ChatState::Aborted, stop.reason, stop.message);
                }
            }
            joined = &mut handle => {
                // The agent is done: take what it sent before returning.
                while let Ok(chunk) = rx.try_recv() {
                    em.chunk(chunk);
                }
                if let Some(trx) = tool_rx.as_mut() {
                    while let Ok(tool) = trx.try_recv() {
                        em.flush(Instant::now());
                        em.agent_event(tool.into());
                    }
                }
                break match joined {
                    Ok(Ok(usage)) => End { state: ChatState::Final, error: None, stop: None, usage: Some(usage) },
                    Ok(Err(msg)) => End::new(ChatState::Error, StopReason::Error, msg),
                    Err(e) => End::new(ChatState::Error, StopReason::Error, format!("agent task failed: {e}")),
                };
            }
        }
    };
    agent_cancel.cancel();
    handle.abort();
    end
}

/// What the run leaves in the transcript: nothing when discarded (delete/reset) or an empty
/// final reply; the partial text with its stop reason when killed or failed.
fn reply_of(ctx: &RunCtx, end: &End, text: &str) -> Option<RunReply> {
    if ctx.handle.discard.load(Ordering::SeqCst) {
        return None;
    }
    if end.state == ChatState::Final && text.is_empty() {
        return None;
    }
    Some(RunReply {
        text: text.to_string(),
        stop_reason: end.stop.map(|s| s.as_str().to_string()),
        error_message: end.error.clone(),
    })
}

async fn finish(
    core: &Arc<Core>,
    ctx: RunCtx,
    seq: u32,
    text: String,
    end: End,
    mut agent: AgentStream,
    (usage, settled): (RunUsage, crate::budget_guard::Settled),
) {
    let now = core.clock.now_ms();
    let record = UsageRecord {
        run_id: ctx.run_id.clone(),
        session_key: ctx.session_key.clone(),
        agent_id: ctx.agent.id().to_string(),
        model: ctx.model.clone(),
        day: settled.day,
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cost_usd: usage.cost_usd,
        estimated: usage.estimated,
        now,
    };
    let run_end = RunEnd {
        run_id: ctx.run_id.clone(),
        session_key: ctx.session_key.clone(),
        generation: ctx.generation.clone(),
        state: end.state.as_str().to_string(),
        error_message: end.error.clone(),
        reply: reply_of(&ctx, &end, &text),
        now,
    };
    let persisted = match core
        .store
        .write_async(move |s| {
            let appended = s.run_complete(&run_end)?;
            // Tokens spent are counted even when the reply was discarded.
            if let Err(e) = s.usage_record(&record) {
                tracing::warn!(run_id = %record.run_id, error = %e, "could not record the run's usage");
            }
            Ok(appended)
        })
        .await
    {
        Ok(appended) => appended.is_some(),
        Err(e) => {
            tracing::warn!(run_id = %ctx.run_id, error = %e, "could not record the end of the run");
            false
        }
    };
    if persisted {
        core.session_changed(&ctx.session_key, "updated");
    }
    let latency_ms = ctx.started.elapsed().as_millis() as u64;
    let (input_tokens, output_tokens) = (usage.input_tokens, usage.output_tokens);
    core.metrics
        .run_finished(end.state.as_str(), latency_ms, input_tokens, output_tokens);
    let shared: Arc<str> = Arc::from(text.as_str());
    let outcome = RunOutcome {
        run_id: ctx.run_id.clone(),
        session_key: ctx.session_key.clone(),
        state: end.state,
        text,
        error_message: end.error.clone(),
        stop_reason: end.stop,
        persisted,
        input_tokens,
        output_tokens,
        latency_ms,
        agent_id: ctx.agent.id().to_string(),
        provider: ctx.agent.provider().to_string(),
        model: ctx.model.clone(),
        session_id: Some(ctx.generation.clone()),
        started_at: ctx.started_at_ms,
        ended_at: now,
        usage: Some(usage),
    };
    {
        let mut st = core.state.lock();
        st.remove_run(&ctx.run_id);
        st.end_active(&ctx.session_key, &ctx.run_id);
        st.remember(outcome.clone(), now);
    }
    core.publish_active_sessions();
    // The lifecycle end goes out before waiters (the `agent` final frame) learn the outcome.
    agent.emit(
        core.agent_sink.get(),
        now,
        AgentEventData::End {
            started_at: Some(ctx.started_at_ms),
            ended_at: now,
            state: end.state,
            error: end.error.clone(),
            stop_reason: end.stop,
        },
    );
    ctx.done.send_replace(Some(outcome));
    let ev = ChatEvent {
        run_id: ctx.run_id.clone(),
        session_key: ctx.session_key.clone(),
        seq: seq + 1,
        state: end.state,
        delta: None,
        text_len: shared.len(),
        text: Some(shared),
        error_message: end.error,
        stop_reason: end.stop,
        usage: Some(usage),
    };
    let _ = core.events.send(ev);
    core.changed.notify_waiters();
    crate::run_start::pump(core);
}
