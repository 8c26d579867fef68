//! The method table (§4): name → (aliases, scope, handler). Every handler is a thin adapter
//! over an operation in `microclaw_engine::ops`; dispatch checks the scope, records metrics
//! and sends the response before releasing a started run's events.

use super::errors::BridgeError;
use super::frames::{Proto, Request};
use super::handlers_agent as agent;
use super::handlers_approvals as approvals;
use super::handlers_devices as devices;
use super::handlers_info as info;
use super::handlers_runs as runs;
use super::handlers_session_control as control;
use super::handlers_sessions as sessions;
use super::outbound_queue::Outbound;
use super::params::Params;
use microclaw_agent::StartOutcome;
use microclaw_core::{ErrorCode, Scope};
use microclaw_engine::{Engine, Principal};
use rustc_hash::FxHashMap;
use serde_json::value::RawValue;
use serde_json::Value;
use std::sync::{Arc, LazyLock};

/// What a handler sees of its connection.
pub struct MethodCtx {
    pub engine: Arc<Engine>,
    /// The principal with the connection's effective scopes.
    pub principal: Principal,
    pub proto: Proto,
    /// The verified device identity of the connection, if it presented one.
    pub device_id: Option<String>,
}

/// A handler's result: the payload and, for a started run, its release gate (dropped only
/// after the response is queued, so the response precedes the run's first event).
pub struct Reply {
    pub payload: Value,
    /// A payload already serialized (large lists skip building a JSON tree); wins over `payload`.
    pub raw: Option<Arc<RawValue>>,
    pub gate: Option<StartOutcome>,
}

impl From<Value> for Reply {
    fn from(payload: Value) -> Self {
        Reply {
            payload,
            raw: None,
            gate: None,
        }
    }
}

impl Reply {
    /// A reply serialized straight from `payload`.
    pub fn serialized<T: serde::Serialize>(payload: &T) -> Result<Reply, BridgeError> {
        let raw = serde_json::value::to_raw_value(payload).map_err(|e| {
            BridgeError::Op(microclaw_core::Error::internal(format!(
                "cannot encode the reply: {e}"
            )))
        })?;
        Ok(Reply::raw(Arc::from(raw)))
    }

    /// A reply whose payload is JSON text already (shared, e.g. from a cache).
    pub fn raw(raw: Arc<RawValue>) -> Reply {
        Reply {
            payload: Value::Null,
            raw: Some(raw),
            gate: None,
        }
    }
}

pub type HandlerResult = Result<Reply, BridgeError>;
/// A handler is an `async fn(&MethodCtx, &Params) -> HandlerResult`, boxed by the `m!` macro.
type Handler = for<'a> fn(&'a MethodCtx, &'a Params<'a>) -> BoxFuture<'a, HandlerResult>;
type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

pub struct MethodSpec {
    /// The dotted name (metrics and error messages use it).
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// `None`: no scope needed (`ping`).
    pub scope: Option<Scope>,
    handler: Handler,
}

const R: Option<Scope> = Some(Scope::Read);
const W: Option<Scope> = Some(Scope::Write);
/// The destructive session actions (delete, reset, fork): the same scope as their HTTP routes.
const APPROVALS: Option<Scope> = Some(Scope::Approvals);
const ADMIN: Option<Scope> = Some(Scope::Admin);
/// Device pairing methods (`device.pair.*`, `device.token.*`).
const PAIRING: Option<Scope> = Some(Scope::Pairing);

/// Callable but not listed in hello-ok (OpenClaw's `advertise:false`, decisions.md).
const NOT_ADVERTISED: &[&str] = &["chat.inject", "sessions.usage"];

macro_rules! m {
    ($name:literal, [$($alias:literal),*], $scope:expr, $handler:path) => {
        MethodSpec {
            name: $name,
            aliases: &[$($alias),*],
            scope: $scope,
            handler: |ctx, params| Box::pin($handler(ctx, params)),
        }
    };
}

pub static METHODS: &[MethodSpec] = &[
    m!("health", [], R, info::health),
    m!("status", [], R, info::status),
    m!("ping", [], None, info::ping),
    m!("chat.send", [], W, runs::chat_send),
    m!("agent", [], W, agent::agent),
    m!("agent.wait", [], W, agent::agent_wait),
    m!("chat.history", [], R, sessions::chat_history),
    m!("chat.abort", ["chat.cancel"], W, runs::chat_abort),
    m!("sessions.list", ["sessions_list"], R, sessions::list),
    m!("sessions.export", [], R, super::handlers_export::export),
    m!("sessions.send", ["sessions_send"], W, runs::sessions_send),
    m!("sessions.kill", ["sessions_kill"], W, runs::sessions_kill),
    m!("sessions.abort", [], W, control::abort),
    m!("sessions.subscribe", [], R, control::subscribe),
    m!("sessions.reset", [], APPROVALS, control::reset),
    m!("chat.inject", [], ADMIN, control::inject),
    m!(
        "sessions.spawn",
        ["sessions_spawn"],
        W,
        runs::sessions_spawn
    ),
    m!(
        "sessions.delete",
        ["session_delete", "sessions_delete"],
        APPROVALS,
        sessions::delete
    ),
    m!(
        "sessions.setLabel",
        ["session_setLabel", "sessions_setLabel"],
        W,
        sessions::set_label
    ),
    m!(
        "sessions.setThinking",
        ["session_setThinking", "sessions_setThinking"],
        W,
        sessions::set_thinking
    ),
    m!(
        "sessions.setVerbose",
        ["session_setVerbose", "sessions_setVerbose"],
        W,
        sessions::set_verbose
    ),
    m!(
        "sessions.setReasoning",
        ["session_setReasoning", "sessions_setReasoning"],
        W,
        sessions::set_reasoning
    ),
    m!("sessions.patch", [], W, sessions::patch),
    m!("sessions.fork", [], APPROVALS, sessions::fork),
    m!("device.pair.list", [], PAIRING, devices::list),
    m!("device.pair.approve", [], PAIRING, devices::approve),
    m!("device.pair.reject", [], PAIRING, devices::reject),
    m!("device.pair.remove", [], PAIRING, devices::remove),
    m!("device.pair.rename", [], PAIRING, devices::rename),
    m!("device.token.revoke", [], PAIRING, devices::token_revoke),
    m!("device.token.rotate", [], PAIRING, devices::token_rotate),
    m!("exec.approval.list", [], APPROVALS, approvals::list),
    m!("exec.approval.get", [], APPROVALS, approvals::get),
    m!("exec.approval.resolve", [], APPROVALS, approvals::resolve),
    m!("approval.history", [], APPROVALS, approvals::history),
    m!("runs.active", [], R, approvals::active),
    m!("agents.list", [], R, info::agents_list),
    m!("models.list", [], R, info::models_list),
    m!("config.get", [], R, info::config_get),
    m!("logs.tail", [], R, super::handlers_logs::tail),
    m!("node.list", [], R, info::node_list),
    m!("system-presence", [], R, info::system_presence),
    m!("channels.status", [], R, super::handlers_channels::status),
    m!("gateways.list", [], R, super::handlers_fleet::list),
    m!("gateways.history", [], R, super::handlers_fleet::history),
    m!("gateways.add", [], ADMIN, super::handlers_fleet::add),
    m!("gateways.update", [], ADMIN, super::handlers_fleet::update),
    m!("gateways.remove", [], ADMIN, super::handlers_fleet::remove),
    m!("gateways.probe", [], ADMIN, super::handlers_fleet::probe),
    m!("gateways.call", [], R, super::handlers_fleet::call),
    m!("alerts.list", [], R, super::handlers_alerts::list),
    m!("freeze.get", [], R, super::handlers_alerts::freeze_get),
    m!("freeze.set", [], ADMIN, super::handlers_alerts::freeze_set),
    m!("incidents.list", [], R, super::handlers_incidents::list),
    m!("incidents.get", [], R, super::handlers_incidents::get),
    m!(
        "incidents.create",
        [],
        ADMIN,
        super::handlers_incidents::create
    ),
    m!("incidents.update", [], W, super::handlers_incidents::update),
    m!("usage.cost", [], R, super::handlers_usage::cost),
    m!(
        "sessions.usage",
        [],
        R,
        super::handlers_usage::sessions_usage
    ),
    m!("budgets.get", [], R, super::handlers_usage::get),
    m!("budgets.set", [], ADMIN, super::handlers_usage::set),
    m!("cron.list", [], R, super::handlers_cron::list),
    m!("cron.get", [], R, super::handlers_cron::get),
    m!("cron.status", [], R, super::handlers_cron::status),
    m!("cron.runs", [], R, super::handlers_cron::runs),
    m!("cron.preview", [], R, super::handlers_cron::preview),
    m!("cron.add", [], ADMIN, super::handlers_cron::add),
    m!("cron.update", [], ADMIN, super::handlers_cron::update),
    m!("cron.remove", [], ADMIN, super::handlers_cron::remove),
    m!("cron.run", [], ADMIN, super::handlers_cron::run),
    m!("cron.dlq.list", [], R, super::handlers_cron::dlq_list),
    m!(
        "cron.dlq.replay",
        [],
        ADMIN,
        super::handlers_cron::dlq_replay
    ),
    m!(
        "cron.dlq.discard",
        [],
        ADMIN,
        super::handlers_cron::dlq_discard
    ),
];

/// Name and alias → method. A short, fixed key set looked up on every request: FxHash (no
/// SipHash, the names are ours, not an attacker's choice of keys to collide).
static BY_NAME: LazyLock<FxHashMap<&'static str, &'static MethodSpec>> = LazyLock::new(|| {
    let mut map = FxHashMap::default();
    for spec in METHODS {
        map.insert(spec.name, spec);
        for alias in spec.aliases {
            map.insert(*alias, spec);
        }
    }
    map
});

pub fn lookup(name: &str) -> Option<&'static MethodSpec> {
    BY_NAME.get(name).copied()
}

/// hello-ok `features.methods`: every accepted name in dotted form (underscore aliases are
/// accepted but not advertised).
pub fn advertised_names() -> Vec<&'static str> {
    let mut names = vec!["connect"];
    for spec in METHODS.iter().filter(|s| !NOT_ADVERTISED.contains(&s.name)) {
        names.push(spec.name);
        names.extend(spec.aliases.iter().filter(|a| !a.contains('_')));
    }
    names
}

/// Methods answered inline on the connection's task (they read only memory and never block):
/// `health`, `ping`, and `status` while its summary is cached (it is rebuilt on a task).
pub fn is_instant(method: &str, engine: &Engine) -> bool {
    match method {
        "health" | "ping" => true,
        "status" => microclaw_engine::ops::status_cache::is_fresh(engine),
        _ => false,
    }
}

/// Runs one request and queues its response (then releases a started run's events).
pub async fn dispatch(ctx: &MethodCtx, out: &Outbound, req: &Request) {
    let mut followup = None;
    let (metric_name, result) = match lookup(&req.method) {
        None => (
            "unknown",
            Err(BridgeError::UnknownMethod(req.method.clone())),
        ),
        Some(spec) => {
            let slot = FollowupSlot::default();
            let result = FOLLOWUP
                .scope(slot.clone(), call(spec, ctx, &req.params))
                .await;
            followup = slot.lock().take();
            (spec.name, result)
        }
    };
    ctx.engine
        .metrics()
        .record_bridge(metric_name, result.is_ok());
    send_result(ctx, out, req, result, followup);
}

/// [`dispatch`] for the methods of [`is_instant`]: the same scope check, metrics and reply,
/// without the follow-up slot (none of them sends a second response).
pub async fn dispatch_instant(ctx: &MethodCtx, out: &Outbound, req: &Request) {
    let Some(spec) = lookup(&req.method) else {
        return dispatch(ctx, out, req).await;
    };
    let result = call(spec, ctx, &req.params).await;
    ctx.engine
        .metrics()
        .record_bridge(spec.name, result.is_ok());
    send_result(ctx, out, req, result, None);
}

/// Queues the response (then releases a started run's events and starts a follow-up).
fn send_result(
    ctx: &MethodCtx,
    out: &Outbound,
    req: &Request,
    result: HandlerResult,
    followup: Option<Followup>,
) {
    match result {
        Ok(mut reply) => {
            match reply.raw.take() {
                Some(raw) => out.respond_raw(ctx.proto, &req.id, &raw),
                None => out.respond(ctx.proto, &req.id, Ok(std::mem::take(&mut reply.payload))),
            };
            // Dropping the gate lets the run emit: after the response is in the queue.
            drop(reply.gate.take());
            if let Some(fut) = followup {
                spawn_followup(ctx.proto, out.clone(), req.id.clone(), fut);
            }
        }
        Err(e) => {
            tracing::debug!(method = %req.method, "bridge request failed: {e:?}");
            out.respond(ctx.proto, &req.id, Err(e));
        }
    }
}

/// A second response a handler sends later with the same id (`agent`'s final result).
pub type Followup = BoxFuture<'static, Value>;
type FollowupSlot = Arc<parking_lot::Mutex<Option<Followup>>>;

tokio::task_local! {
    static FOLLOWUP: FollowupSlot;
}

/// For a handler: once its (successful) response is queued, `fut` runs on its own task and
/// its payload goes out as a second `res` frame with the request's id. Like a run-terminal
/// event it is never dropped: a connection whose queue cannot take it closes with 1013.
pub fn send_later(fut: Followup) {
    let _ = FOLLOWUP.try_with(|slot| *slot.lock() = Some(fut));
}

fn spawn_followup(proto: Proto, out: Outbound, id: Value, fut: Followup) {
    tokio::spawn(async move {
        let gone = out.writer_done();
        tokio::select! {
            _ = gone.cancelled() => {}
            payload = fut => {
                out.respond(proto, &id, Ok(payload));
            }
        }
    });
}

async fn call(spec: &MethodSpec, ctx: &MethodCtx, raw: &Value) -> HandlerResult {
    if let Some(scope) = spec.scope {
        if !ctx.principal.scopes.allows(scope) {
            return Err(BridgeError::MissingScope(scope));
        }
    }
    let params = Params::new(spec.name, raw)?;
    (spec.handler)(ctx, &params)
        .await
        .map_err(|e| name_params_error(spec.name, e))
}

/// Operation validation errors become "invalid <method> params: …" (§4).
fn name_params_error(method: &str, e: BridgeError) -> BridgeError {
    match e {
        BridgeError::Op(mut err) if err.code == ErrorCode::InvalidRequest => {
            let prefix = format!("invalid {method} params");
            if !err.message.starts_with(&prefix) {
                err.message = format!("{prefix}: {}", err.message);
            }
            BridgeError::Op(err)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runbook_underscore_name_and_alias_resolves() {
        for (alias, name) in [
            ("session_delete", "sessions.delete"),
            ("sessions_send", "sessions.send"),
            ("sessions_kill", "sessions.kill"),
            ("sessions_spawn", "sessions.spawn"),
            ("session_setThinking", "sessions.setThinking"),
            ("session_setVerbose", "sessions.setVerbose"),
            ("session_setReasoning", "sessions.setReasoning"),
            ("session_setLabel", "sessions.setLabel"),
            ("sessions_list", "sessions.list"),
            ("chat.cancel", "chat.abort"),
        ] {
            assert_eq!(lookup(alias).map(|s| s.name), Some(name), "{alias}");
        }
        assert!(lookup("sessions.nuke").is_none());
    }

    #[test]
    fn reads_need_read_writes_need_write_and_ping_needs_nothing() {
        assert_eq!(lookup("ping").unwrap().scope, None);
        assert_eq!(lookup("chat.history").unwrap().scope, Some(Scope::Read));
        for m in ["chat.send", "sessions.patch", "chat.abort"] {
            assert_eq!(lookup(m).unwrap().scope, Some(Scope::Write), "{m}");
        }
        // One table for both transports: delete/fork need approvals, like their HTTP routes.
        for (m, route) in [
            ("sessions.delete", "/api/delete_session"),
            ("sessions.fork", "/api/sessions/fork"),
        ] {
            assert_eq!(lookup(m).unwrap().scope, Some(Scope::Approvals), "{m}");
            assert_eq!(
                crate::http::scopes::access(&axum::http::Method::POST, route),
                crate::http::scopes::Access::Needs(Scope::Approvals),
                "{route}"
            );
        }
    }

    #[test]
    fn advertised_names_are_dotted_and_unique() {
        let names = advertised_names();
        assert!(names.iter().all(|n| !n.contains('_')), "{names:?}");
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        assert!(names.contains(&"chat.cancel") && names.contains(&"sessions.abort"));
        assert!(
            !names.contains(&"chat.inject"),
            "chat.inject is not advertised"
        );
        assert!(lookup("chat.inject").is_some(), "but it is callable");
    }

    #[test]
    fn operation_validation_errors_name_the_method() {
        let e = name_params_error(
            "chat.history",
            BridgeError::Op(microclaw_core::Error::invalid(
                "limit = 0: expected 1..1000",
            )),
        );
        assert_eq!(
            e,
            BridgeError::Op(microclaw_core::Error::invalid(
                "invalid chat.history params: limit = 0: expected 1..1000"
            ))
        );
    }
}
