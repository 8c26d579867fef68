//! Methods that start or stop runs: `chat.send`, `sessions.send`, `sessions.spawn`,
//! `chat.abort`, `sessions.kill`. A started run's gate travels in the [`Reply`].

use super::methods::{HandlerResult, MethodCtx, Reply};
use super::params::Params;
use microclaw_engine::ops;
use serde_json::{json, Value};

/// Longest `runTimeoutSeconds` accepted (one day).
const MAX_RUN_TIMEOUT_SECONDS: i64 = 86_400;

pub async fn chat_send(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p.session_key()?;
    let message = p.str_required("message")?;
    let idem = p.str_opt("idempotencyKey")?;
    let mode = p.str_opt("queueMode")?;
    let (_, outcome) = ops::chat::send(&ctx.engine, Some(&key), message, idem, mode).await?;
    Ok(Reply {
        payload: json!({"runId": outcome.run_id, "status": outcome.status.as_str()}),
        raw: None,
        gate: Some(outcome),
    })
}

pub async fn sessions_send(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p.session_key()?;
    let text = match p.value("message") {
        Some(Value::String(s)) => s.clone(),
        Some(obj @ Value::Object(m))
            if m.get("type").and_then(Value::as_str) == Some("control") =>
        {
            return Ok(ops::chat::control(&ctx.engine, Some(&key), obj)?.into());
        }
        Some(other) => other.to_string(),
        None => {
            return Err(p.err(
                "message is required: expected a string or a {type:\"control\", action} object",
            ))
        }
    };
    let idem = p.str_opt("idempotencyKey")?;
    let mode = p.str_opt("queueMode")?;
    let (key, outcome) = ops::chat::send(&ctx.engine, Some(&key), &text, idem, mode).await?;
    // The run is placed: a failed read leaves sessionId null rather than failing the send.
    let session_id = ops::session_control::current_session_id(&ctx.engine, &key)
        .await
        .unwrap_or_else(|e| {
            tracing::debug!("sessions.send: cannot read the sessionId of {key}: {e}");
            None
        });
    let payload = json!({"ok": true, "runId": outcome.run_id, "key": key, "sessionKey": key,
                         "sessionId": session_id, "status": outcome.status.as_str()});
    Ok(Reply {
        payload,
        raw: None,
        gate: Some(outcome),
    })
}

pub async fn sessions_spawn(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let task = p.str_required("task")?;
    let label = p.str_opt("label")?;
    let model = p.str_opt("model")?;
    let timeout = p
        .int_opt("runTimeoutSeconds", 1, MAX_RUN_TIMEOUT_SECONDS)?
        .map(|s| s as u64);
    let s = ops::chat::spawn(&ctx.engine, task, label, model, timeout).await?;
    let payload = json!({"ok": true, "runId": s.outcome.run_id, "key": s.key, "sessionKey": s.key,
                         "sessionId": s.session_id, "label": s.label, "model": s.model,
                         "runTimeoutSeconds": s.run_timeout_seconds});
    let outcome = s.outcome;
    Ok(Reply {
        payload,
        raw: None,
        gate: Some(outcome),
    })
}

pub async fn chat_abort(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p.session_key()?;
    let run_id = p.str_opt("runId")?;
    let (_, ids) = ops::chat::abort(&ctx.engine, Some(&key), run_id)?;
    Ok(json!({"ok": true, "aborted": !ids.is_empty(), "runIds": ids}).into())
}

pub async fn sessions_kill(ctx: &MethodCtx, p: &Params<'_>) -> HandlerResult {
    let key = p.session_key()?;
    let (key, n) = ops::chat::kill(&ctx.engine, &ctx.principal, Some(&key)).await?;
    Ok(
        json!({"ok": true, "key": key, "sessionKey": key, "terminated": n > 0, "activeAborted": n})
            .into(),
    )
}
