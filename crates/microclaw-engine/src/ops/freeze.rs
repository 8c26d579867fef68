//! The change freeze (operations.md §4): on by hand (`PUT /api/freeze`) or by itself while a
//! page-severity alert fires. While it is on, non-critical changes call [`guard`] and are
//! refused with `CHANGE_FREEZE` unless an admin gives an override reason (body
//! `override:{reason}` or header `X-Microclaw-Override`), which lands in the incident timeline.
//! Sessions, chat and kills never call the guard. The state lives in the `settings` table.

use crate::audit;
use crate::engine::Engine;
use crate::events::EngineEvent;
use microclaw_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

const SETTING: &str = "freeze";

/// What the transport knows of the request being served: the `X-Microclaw-Override` header
/// and the caller's actor name.
#[derive(Debug, Clone, Default)]
pub struct RequestCtx {
    pub override_reason: Option<String>,
    pub actor: Option<String>,
}

tokio::task_local! {
    static REQUEST: RequestCtx;
}

/// Runs `fut` with `ctx` as the request's context (the HTTP middleware sets it).
pub async fn with_request<F: std::future::Future>(ctx: RequestCtx, fut: F) -> F::Output {
    REQUEST.scope(ctx, fut).await
}

fn request() -> RequestCtx {
    REQUEST.try_with(|r| r.clone()).unwrap_or_default()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FreezeState {
    pub active: bool,
    pub reason: Option<String>,
    /// Epoch ms after which a manual freeze ends by itself.
    pub until: Option<i64>,
    pub incident_id: Option<i64>,
    /// `true` when the burn alerts turned it on (it lifts when they resolve).
    #[serde(default)]
    pub auto: bool,
    pub set_by: Option<String>,
    pub set_at: Option<i64>,
}

async fn load(engine: &Engine) -> Result<FreezeState> {
    let raw = engine
        .store()
        .read_async(|s| s.setting_get(SETTING))
        .await?;
    let mut st: FreezeState = raw
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    if st.active && st.until.is_some_and(|u| u <= engine.now_ms()) {
        st.active = false;
    }
    Ok(st)
}

async fn save(engine: &Engine, st: &FreezeState) -> Result<()> {
    let text = serde_json::to_string(st).map_err(|e| Error::internal(e.to_string()))?;
    engine
        .store()
        .write_async(move |s| s.setting_set(SETTING, &text))
        .await
}

/// The `freeze` payload: `{active, reason, until, incidentId}` (plus `auto`, `setBy`, `setAt`).
pub fn payload(st: &FreezeState) -> Value {
    serde_json::to_value(st).unwrap_or_else(|_| json!({"active": st.active}))
}

/// `GET /api/freeze`.
pub async fn get(engine: &Engine) -> Result<Value> {
    Ok(payload(&load(engine).await?))
}

async fn change(engine: &Engine, st: FreezeState) -> Result<Value> {
    save(engine, &st).await?;
    let p = payload(&st);
    engine.emit(EngineEvent::FreezeChanged(p.clone()));
    Ok(p)
}

/// `PUT /api/freeze {active, reason, until?, incidentId?}` (admin).
pub async fn set(engine: &Engine, actor: &str, body: &Value) -> Result<Value> {
    let Some(o) = body.as_object() else {
        return Err(Error::invalid(
            "freeze update must be an object: {\"active\": true, \"reason\": \"…\", \"until\": <epoch ms>?}",
        ));
    };
    let active = o.get("active").and_then(Value::as_bool).ok_or_else(|| {
        Error::invalid("freeze update: active is required: expected true or false")
    })?;
    let reason = o.get("reason").and_then(Value::as_str).map(str::trim);
    if active && reason.is_none_or(str::is_empty) {
        return Err(Error::invalid(
            "freeze update: reason is required to freeze: expected a non-empty string",
        ));
    }
    let until = match o.get("until") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(u) if u > engine.now_ms() => Some(u),
            _ => {
                return Err(Error::invalid(
                    "freeze update: until must be a future time in epoch milliseconds",
                ))
            }
        },
    };
    let incident_id = match o.get("incidentId") {
        Some(v) => v.as_i64(),
        None => engine
            .store()
            .read_async(|s| s.incident_open_for(None))
            .await?
            .map(|i| i.id),
    };
    let st = FreezeState {
        active,
        reason: reason.filter(|_| active).map(str::to_string),
        until: until.filter(|_| active),
        incident_id: incident_id.filter(|_| active),
        auto: false,
        set_by: Some(actor.to_string()),
        set_at: Some(engine.now_ms()),
    };
    audit::record(engine, "freeze.set", actor, None, payload(&st)).await;
    if let Some(id) = st.incident_id {
        let text = if active {
            format!(
                "change freeze on: {}",
                st.reason.clone().unwrap_or_default()
            )
        } else {
            "change freeze lifted".to_string()
        };
        super::incidents::timeline(engine, id, "status", &text, actor).await;
    }
    change(engine, st).await
}

/// A page alert started firing: freeze by itself (unless a freeze is already on).
pub async fn auto_on(engine: &Engine, rule: &str, incident_id: Option<i64>) -> Result<()> {
    let st = load(engine).await?;
    if st.active {
        return Ok(());
    }
    change(
        engine,
        FreezeState {
            active: true,
            reason: Some(format!("page alert {rule} is firing")),
            until: None,
            incident_id,
            auto: true,
            set_by: Some("alerts".into()),
            set_at: Some(engine.now_ms()),
        },
    )
    .await
    .map(|_| ())
}

/// No page alert fires any more: lift a freeze the alerts turned on (a manual one stays).
pub async fn auto_off(engine: &Engine) -> Result<()> {
    let st = load(engine).await?;
    if !(st.active && st.auto) {
        return Ok(());
    }
    change(
        engine,
        FreezeState {
            set_by: Some("alerts".into()),
            set_at: Some(engine.now_ms()),
            ..FreezeState::default()
        },
    )
    .await
    .map(|_| ())
}

/// `override.reason` of a params/body object.
pub fn override_of(p: &Map<String, Value>) -> Option<String> {
    p.get("override")
        .and_then(|o| o.get("reason"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

/// The freeze error: HTTP 423 / bridge `UNAVAILABLE` (not retryable) with
/// `details.code = "CHANGE_FREEZE"`.
pub fn freeze_error(st: &FreezeState, what: &str) -> Error {
    Error::unavailable(format!(
        "change freeze in effect ({}): {what} is refused; an admin may override with a reason \
         (body override:{{reason}} or header X-Microclaw-Override)",
        st.reason
            .clone()
            .unwrap_or_else(|| "no reason given".into())
    ))
    .with_details(
        json!({"code": "CHANGE_FREEZE", "incidentId": st.incident_id, "retryable": false}),
    )
}

/// The freeze guard for a non-critical change `what` by `actor` (an admin: every guarded
/// action needs admin; `""` = the request's caller). Refuses while frozen unless there is an override reason (`body_override`
/// or the request's header), which is recorded in the incident timeline and the audit log.
pub async fn guard(
    engine: &Engine,
    actor: &str,
    body_override: Option<String>,
    what: &str,
) -> Result<()> {
    let st = load(engine).await?;
    if !st.active {
        return Ok(());
    }
    let req = request();
    let actor = if actor.is_empty() {
        req.actor.as_deref().unwrap_or("unknown")
    } else {
        actor
    };
    let reason = body_override.or(req.override_reason);
    let Some(reason) = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
    else {
        return Err(freeze_error(&st, what));
    };
    let text = format!("freeze override for {what}: {reason}");
    audit::record(
        engine,
        "freeze.override",
        actor,
        Some(what),
        json!({"reason": reason, "incidentId": st.incident_id}),
    )
    .await;
    let incident = match st.incident_id {
        Some(id) => Some(id),
        None => engine
            .store()
            .read_async(|s| s.incident_open_for(None))
            .await
            .ok()
            .flatten()
            .map(|i| i.id),
    };
    if let Some(id) = incident {
        super::incidents::timeline(engine, id, "override", &text, actor).await;
    }
    Ok(())
}
