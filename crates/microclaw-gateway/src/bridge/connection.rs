//! One bridge connection, generic over the socket's `Sink`/`Stream` so the protocol runs the
//! same over axum's WebSocket and over in-memory channels: challenge, handshake, hello-ok,
//! then the request/event loop with its limits (§2, §5).

use super::conn_access;
use super::conn_events::{self, Flow};
use super::errors::BridgeError;
use super::frames::{self, Proto, Request};
use super::handshake::{self, HandshakeInput, Session};
use super::hello;
use super::limits::{Limits, MalformedWindow};
use super::methods::{self, MethodCtx};
use super::outbound_queue::{self, Outbound, CLOSE_GOING_AWAY, CLOSE_POLICY, CLOSE_TOO_BIG};
use super::tick_snapshot;
use super::ConnContext;
use axum::extract::ws::Message;
use futures_util::future::OptionFuture;
use futures_util::{FutureExt, Sink, Stream, StreamExt};
use microclaw_core::Error;
use microclaw_engine::{Engine, EngineEvent, PresenceEntry};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, MissedTickBehavior};

/// How long a closing connection waits for its writer to flush the close frame.
const WRITER_DRAIN: Duration = Duration::from_secs(5);

pub async fn run_connection<S, R, E>(
    engine: Arc<Engine>,
    sink: S,
    mut stream: R,
    ctx: ConnContext,
    limits: Limits,
) where
    S: Sink<Message> + Unpin + Send + 'static,
    S::Error: Display,
    R: Stream<Item = Result<Message, E>> + Unpin + Send,
    E: Display,
{
    let (out, out_rx) = outbound_queue::channel(limits.max_buffered, limits.max_payload);
    out.set_metrics(engine.metrics().clone());
    let mut writer = tokio::spawn(outbound_queue::run_writer(sink, out_rx));
    // The phases are boxed and the handshake's state is scoped: a connection's task then
    // holds only the phase it is in (an idle connection is mostly its event loop), not the
    // sum of all of them.
    let handshake = {
        let nonce = uuid::Uuid::new_v4().to_string();
        out.event(
            "connect.challenge",
            json!({"nonce": nonce, "ts": engine.now_ms()}),
        );
        Box::pin(handshake_phase(
            &engine,
            &mut stream,
            &out,
            &ctx,
            &nonce,
            &limits,
        ))
        .await
    };
    if let Some((req_id, session)) = handshake {
        let session = Box::new(session);
        Box::pin(connected(
            &engine,
            &mut stream,
            &out,
            &ctx,
            &limits,
            req_id,
            session,
        ))
        .await;
    }
    out.close(1000, "");
    if tokio::time::timeout(WRITER_DRAIN, &mut writer)
        .await
        .is_err()
    {
        tracing::debug!("bridge writer did not drain in time: dropping the socket");
        writer.abort();
    }
}

/// After a successful `connect`: hello-ok, the first tick, presence, then the event loop.
async fn connected<R, E>(
    engine: &Arc<Engine>,
    stream: &mut R,
    out: &Outbound,
    ctx: &ConnContext,
    limits: &Limits,
    req_id: Value,
    session: Box<Session>,
) where
    R: Stream<Item = Result<Message, E>> + Unpin + Send,
    E: Display,
{
    let conn_id = uuid::Uuid::new_v4().to_string();
    // Subscribed before hello-ok: nothing that happens after it is missed.
    let engine_rx = engine.subscribe();
    let chat_rx = engine.runs().subscribe();
    let health =
        microclaw_engine::ops::status::health(engine).unwrap_or_else(|_| json!({"ok": false}));
    out.set_proto(session.proto);
    out.respond(
        session.proto,
        &req_id,
        Ok(hello::hello_ok(engine, &session, &conn_id, health)),
    );
    drop(req_id);
    let snapshot_ticks = tick_snapshot::wants_snapshot(&session.client);
    tick_snapshot::first_tick(engine, out, snapshot_ticks).await;
    join(engine, &conn_id, &session, ctx);
    // What the loop needs; the rest of the handshake's record (client info) is freed. The
    // device guard counts this connection as its device's until the loop ends.
    let Session {
        principal,
        proto,
        device_id,
        device_guard,
        ..
    } = *session;
    let loop_state = Loop {
        out: out.clone(),
        mctx: Arc::new(MethodCtx {
            engine: engine.clone(),
            principal,
            proto,
            device_id,
        }),
        limits,
        recheck_due: AtomicBool::new(false),
        snapshot_ticks,
    };
    loop_state.run(stream, engine_rx, chat_rx).await;
    drop(device_guard);
    leave(engine, &conn_id);
}

fn join(engine: &Engine, conn_id: &str, session: &Session, ctx: &ConnContext) {
    let c = &session.client;
    let entry = PresenceEntry {
        instance_id: c
            .instance_id
            .clone()
            .or_else(|| session.device_id.clone())
            .unwrap_or_else(|| conn_id.to_string()),
        host: c
            .display_name
            .clone()
            .unwrap_or_else(|| ctx.remote_host.clone()),
        mode: c.mode.clone().unwrap_or_else(|| "operator".into()),
        platform: c.platform.clone().unwrap_or_default(),
        version: c.version.clone().unwrap_or_default(),
        ts: engine.now_ms(),
    };
    engine.presence().join(conn_id, entry);
    engine.metrics().bridge_connections_add(1);
}

fn leave(engine: &Engine, conn_id: &str) {
    engine.presence().leave(conn_id);
    engine.metrics().bridge_connections_add(-1);
    engine.mem_release().closed();
}

/// Waits for the first frame; it must be a `connect` request that succeeds.
async fn handshake_phase<R, E>(
    engine: &Engine,
    stream: &mut R,
    out: &Outbound,
    ctx: &ConnContext,
    nonce: &str,
    limits: &Limits,
) -> Option<(Value, Session)>
where
    R: Stream<Item = Result<Message, E>> + Unpin,
    E: Display,
{
    let deadline = tokio::time::sleep(limits.handshake_timeout);
    tokio::pin!(deadline);
    let writer_done = out.writer_done();
    let text = loop {
        tokio::select! {
            _ = &mut deadline => {
                out.close(CLOSE_POLICY, "handshake timeout: no connect request");
                return None;
            }
            _ = writer_done.cancelled() => return None,
            frame = stream.next() => match frame {
                None | Some(Ok(Message::Close(_))) => return None,
                Some(Err(e)) => {
                    on_read_error(out, &e);
                    return None;
                }
                Some(Ok(Message::Text(t))) => break t,
                Some(Ok(Message::Binary(_))) => {
                    refuse_first_frame(out, &Value::Null, "binary frame");
                    return None;
                }
                Some(Ok(_)) => continue, // ping/pong
            },
        }
    };
    if text.len() > limits.max_payload {
        out.close(CLOSE_TOO_BIG, "frame larger than maxPayload");
        return None;
    }
    let req = match frames::parse_request(text.as_str()) {
        Ok(req) if req.method == "connect" => req,
        Ok(req) => {
            refuse_first_frame(out, &req.id, &format!("method '{}'", req.method));
            return None;
        }
        Err(why) => {
            refuse_first_frame(out, &Value::Null, &why);
            return None;
        }
    };
    let client_addr = ctx.peer.ip().to_string();
    let input = HandshakeInput {
        engine,
        params: &req.params,
        challenge_nonce: nonce,
        client_addr: &client_addr,
        cookie_principal: ctx.cookie_principal.as_ref(),
        foreign_origin: ctx.foreign_origin.as_deref(),
    };
    match handshake::connect(input).await {
        Ok(session) => {
            engine.metrics().record_bridge("connect", true);
            if let Some(slot) = &ctx.slot {
                slot.authenticated();
            }
            Some((req.id, session))
        }
        Err(refusal) => {
            engine.metrics().record_bridge("connect", false);
            tracing::debug!("bridge connect refused: {:?}", refusal.error);
            out.respond(refusal.proto, &req.id, Err(refusal.error));
            out.close(refusal.close_code, "connect refused");
            None
        }
    }
}

/// A read error ends the connection. The socket layer refuses frames far past maxPayload
/// itself (its error names the message as too long): the client still gets close 1009.
fn on_read_error(out: &Outbound, e: &impl Display) {
    let text = e.to_string();
    if text.contains("too long") {
        out.close(CLOSE_TOO_BIG, "frame larger than maxPayload");
    } else {
        tracing::debug!("bridge socket read failed: {text}");
    }
}

fn refuse_first_frame(out: &Outbound, id: &Value, got: &str) {
    let msg = format!("a connect request is required first: expected {{type:\"req\", method:\"connect\"}}, got {got}");
    out.respond(Proto::V3, id, Err(BridgeError::Op(Error::invalid(msg))));
    out.close(CLOSE_POLICY, "connect required first");
}

/// The request/event loop after hello-ok.
struct Loop<'a> {
    out: Outbound,
    mctx: Arc<MethodCtx>,
    limits: &'a Limits,
    /// Asks for a credential recheck at the end of this loop turn (see `conn_access`): set by
    /// the recheck timer, an answer given from memory, and revocation events.
    recheck_due: AtomicBool,
    /// Mission Control's ticks carry the sessions snapshot (see `tick_snapshot`).
    snapshot_ticks: bool,
}

/// Requests read while every in-flight permit is taken wait here, so the loop keeps draining
/// the event streams; past these bounds it stops reading the socket (TCP backpressure).
const MAX_WAITING_REQUESTS: usize = 256;

/// Frames already read that one turn of the loop handles before polling the event streams.
const READY_BURST: usize = 64;

/// Requests waiting for an in-flight permit, bounded by count and bytes.
#[derive(Default)]
struct Waiting {
    queue: VecDeque<(Request, usize)>,
    bytes: usize,
}

impl Waiting {
    fn has_room(&self, max_bytes: usize) -> bool {
        self.queue.len() < MAX_WAITING_REQUESTS && self.bytes < max_bytes
    }
    fn push(&mut self, req: Request, size: usize) {
        self.bytes += size;
        self.queue.push_back((req, size));
    }
    fn pop(&mut self) -> Option<Request> {
        let (req, size) = self.queue.pop_front()?;
        self.bytes -= size;
        Some(req)
    }
}

impl Loop<'_> {
    async fn run<R, E>(
        &self,
        stream: &mut R,
        mut engine_rx: tokio::sync::broadcast::Receiver<EngineEvent>,
        mut chat_rx: tokio::sync::broadcast::Receiver<microclaw_agent::ChatEvent>,
    ) where
        R: Stream<Item = Result<Message, E>> + Unpin,
        E: Display,
    {
        let limits = self.limits;
        let in_flight = Arc::new(Semaphore::new(limits.max_in_flight));
        let mut waiting = Waiting::default();
        let mut malformed = MalformedWindow::new(limits.malformed_max, limits.malformed_window);
        let mut tick =
            tokio::time::interval_at(Instant::now() + limits.tick_interval, limits.tick_interval);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_inbound = Instant::now();
        let mut last_ping: Option<Instant> = None;
        // One housekeeping timer: the credential recheck (every RECHECK_EVERY) and the
        // keepalive check (a third of idle_ping), whichever is more often. The recheck runs
        // inside this loop (polled beside everything else, so a slow store never stalls it),
        // at most one at a time: no task or timer of its own.
        let every = conn_access::RECHECK_EVERY.min(limits.idle_ping / 3);
        let mut housekeeping = tokio::time::interval_at(Instant::now() + every, every);
        housekeeping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut rechecking: Option<Pin<Box<dyn Future<Output = bool> + Send + '_>>> = None;
        // Armed by the `shutdown` event only (most connections never need the timer).
        let mut shutdown_close: Option<Pin<Box<tokio::time::Sleep>>> = None;
        let mut shutting_down = false;
        let (mut chat_open, mut engine_open) = (true, true);
        let writer_done = self.out.writer_done();
        loop {
            // Reading pauses only while the waiting requests are at their bound; the event
            // streams are polled on every turn.
            let reading = waiting.has_room(limits.max_buffered);
            let flow = tokio::select! {
                _ = writer_done.cancelled() => Flow::Stop,
                Some(valid) = OptionFuture::from(rechecking.as_mut()), if rechecking.is_some() => {
                    rechecking = None;
                    if valid { Flow::Continue } else { Flow::Stop }
                },
                ev = chat_rx.recv(), if chat_open => match ev {
                    Ok(ev) => conn_events::on_chat_event(&self.mctx, &self.out, &ev),
                    Err(RecvError::Closed) => { chat_open = false; Flow::Continue }
                    Err(e) => conn_events::on_lag(&self.out, "chat", e),
                },
                ev = engine_rx.recv(), if engine_open => match ev {
                    Ok(EngineEvent::Shutdown { reason }) if !shutting_down => {
                        shutting_down = true;
                        self.out.event("shutdown", json!({"reason": reason}));
                        shutdown_close = Some(Box::pin(tokio::time::sleep(limits.shutdown_close_after)));
                        Flow::Continue
                    }
                    Ok(EngineEvent::Closed) => {
                        // Runs have ended and their terminal events are queued ahead of this.
                        self.out.close(CLOSE_GOING_AWAY, "server shutting down");
                        Flow::Stop
                    }
                    Ok(ev) => {
                        if matches!(ev, EngineEvent::KeyRevoked { .. } | EngineEvent::LoginSessionRevoked { .. }) {
                            self.recheck_due.store(true, Ordering::Relaxed);
                        }
                        conn_events::on_engine_event(&self.mctx, &self.out, ev)
                    }
                    Err(RecvError::Closed) => { engine_open = false; Flow::Continue }
                    Err(e) => conn_events::on_lag(&self.out, "engine", e),
                },
                permit = in_flight.clone().acquire_owned(), if !waiting.queue.is_empty() => {
                    match (permit, waiting.pop()) {
                        (Ok(permit), Some(req)) => { self.spawn_request(req, permit); Flow::Continue }
                        _ => Flow::Continue,
                    }
                },
                frame = stream.next(), if reading => match frame {
                    None | Some(Ok(Message::Close(_))) => Flow::Stop,
                    Some(Err(e)) => {
                        on_read_error(&self.out, &e);
                        Flow::Stop
                    }
                    Some(Ok(msg)) => {
                        last_inbound = Instant::now();
                        match self.on_frame(msg, &in_flight, &mut waiting, &mut malformed).await {
                            Flow::Continue => {
                                self.on_ready_frames(stream, &in_flight, &mut waiting, &mut malformed).await
                            }
                            stop => stop,
                        }
                    }
                },
                _ = tick.tick() => tick_snapshot::on_tick(&self.mctx, &self.out, self.snapshot_ticks),
                _ = housekeeping.tick() => {
                    self.recheck_due.store(true, Ordering::Relaxed);
                    if !reading {
                        // Not reading is our choice, not the client's silence.
                        last_inbound = Instant::now();
                    }
                    let idle = last_inbound.elapsed();
                    if idle >= limits.idle_close {
                        self.out.close(CLOSE_GOING_AWAY, "no answer to ping");
                        Flow::Stop
                    } else {
                        if idle >= limits.idle_ping && last_ping.is_none_or(|t| t < last_inbound || t.elapsed() >= limits.idle_ping) {
                            self.out.control(Message::Ping(Vec::new().into()));
                            last_ping = Some(Instant::now());
                        }
                        Flow::Continue
                    }
                }
                Some(()) = OptionFuture::from(shutdown_close.as_mut()), if shutdown_close.is_some() => {
                    self.out.close(CLOSE_GOING_AWAY, "server shutting down");
                    Flow::Stop
                }
            };
            if matches!(flow, Flow::Stop) || self.out.is_closing() {
                break;
            }
            if rechecking.is_none() && self.recheck_due.swap(false, Ordering::Relaxed) {
                rechecking = Some(Box::pin(conn_access::recheck(&self.mctx, &self.out)));
            }
        }
    }

    /// Handles frames that are already read (a pipelined burst) without going back through
    /// the whole `select!`: at most [`READY_BURST`] of them, while there is room to queue.
    async fn on_ready_frames<R, E>(
        &self,
        stream: &mut R,
        in_flight: &Arc<Semaphore>,
        waiting: &mut Waiting,
        malformed: &mut MalformedWindow,
    ) -> Flow
    where
        R: Stream<Item = Result<Message, E>> + Unpin,
        E: Display,
    {
        for _ in 0..READY_BURST {
            if !waiting.has_room(self.limits.max_buffered) || self.out.is_closing() {
                break;
            }
            let flow = match stream.next().now_or_never() {
                None => break, // nothing more is ready: back to the select
                Some(None | Some(Ok(Message::Close(_)))) => Flow::Stop,
                Some(Some(Err(e))) => {
                    on_read_error(&self.out, &e);
                    Flow::Stop
                }
                Some(Some(Ok(msg))) => self.on_frame(msg, in_flight, waiting, malformed).await,
            };
            if matches!(flow, Flow::Stop) {
                return flow;
            }
        }
        Flow::Continue
    }

    async fn on_frame(
        &self,
        msg: Message,
        in_flight: &Arc<Semaphore>,
        waiting: &mut Waiting,
        malformed: &mut MalformedWindow,
    ) -> Flow {
        let text = match msg {
            Message::Text(t) => t,
            Message::Binary(_) => {
                return self.malformed(
                    malformed,
                    "binary frames are not supported: expected JSON text frames".into(),
                )
            }
            _ => return Flow::Continue, // pings are answered by the socket layer; pongs just count as activity
        };
        if text.len() > self.limits.max_payload {
            self.out
                .close(CLOSE_TOO_BIG, "frame larger than maxPayload");
            return Flow::Stop;
        }
        let req: Request = match frames::parse_request(text.as_str()) {
            Ok(r) => r,
            Err(why) => return self.malformed(malformed, why),
        };
        if req.method == "connect" {
            self.out.respond(
                self.mctx.proto,
                &req.id,
                Err(BridgeError::Op(Error::invalid("already connected"))),
            );
            return Flow::Continue;
        }
        if !conn_access::charge(&self.mctx, &self.out, &req) {
            return Flow::Continue;
        }
        if methods::is_instant(&req.method, &self.mctx.engine) {
            // `health`, `ping` and a cached `status` answer from memory: no task, no permit,
            // no store read; the connection's recheck runs beside (a revoked credential
            // closes the socket).
            self.recheck_due.store(true, Ordering::Relaxed);
            methods::dispatch_instant(&self.mctx, &self.out, &req).await;
            return Flow::Continue;
        }
        // A free permit runs the request now; otherwise it waits its turn (in order) while
        // the loop goes on draining events.
        match (
            waiting.queue.is_empty(),
            in_flight.clone().try_acquire_owned(),
        ) {
            (true, Ok(permit)) => self.spawn_request(req, permit),
            _ => waiting.push(req, text.len()),
        }
        Flow::Continue
    }

    /// Runs one request on its own task (after rechecking the credential); the permit is
    /// released when it is answered.
    fn spawn_request(&self, req: Request, permit: OwnedSemaphorePermit) {
        let (mctx, out) = (self.mctx.clone(), self.out.clone());
        tokio::spawn(async move {
            if !conn_access::recheck(&mctx, &out).await {
                return;
            }
            methods::dispatch(&mctx, &out, &req).await;
            drop(permit);
        });
    }

    fn malformed(&self, window: &mut MalformedWindow, why: String) -> Flow {
        self.out.respond(
            self.mctx.proto,
            &Value::Null,
            Err(BridgeError::Op(Error::invalid(why))),
        );
        if window.record(std::time::Instant::now()) {
            self.out.close(CLOSE_POLICY, "too many malformed frames");
            return Flow::Stop;
        }
        Flow::Continue
    }
}
