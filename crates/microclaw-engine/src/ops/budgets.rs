//! `budgets.get` / `GET /api/budgets` and `budgets.set` / `PUT /api/budgets` (admin): the
//! caps with their use and reset time; a run-time edit applied at once and kept in the store.

use crate::audit;
use crate::principal::Principal;
use crate::Engine;
use microclaw_core::Result;
use serde_json::{json, Value};

/// Audit kind of a budget edit.
pub const BUDGETS_SET: &str = "budgets.set";

/// Every cap with its use and reset time.
pub async fn budgets_get(engine: &Engine) -> Result<Value> {
    engine.budgets().report().await
}

/// Applies a flat patch (`null` clears a cap; `agents: {id: {…}}`), stores it and answers
/// like `budgets_get` plus `ignored` (unknown keys, never rejected).
pub async fn budgets_set(engine: &Engine, by: &Principal, patch: &Value) -> Result<Value> {
    let mut patch = patch.clone();
    let over = patch.as_object().and_then(super::freeze::override_of);
    super::freeze::guard(engine, &by.actor, over, "budgets.set").await?;
    if let Some(m) = patch.as_object_mut() {
        m.remove("override");
    }
    let patch = &patch;
    let (cfg, ignored) = crate::budgets::apply_patch(&engine.budgets().config(), patch)?;
    let text = serde_json::to_string(&cfg).map_err(|e| {
        microclaw_core::Error::internal(format!("could not encode the budgets: {e}"))
    })?;
    engine
        .store()
        .write_async(move |s| s.setting_set(crate::budgets::RUNTIME_SETTING, &text))
        .await?;
    engine.budgets().replace(cfg)?;
    audit::record_by(engine, by, BUDGETS_SET, None, json!({"patch": patch})).await;
    let mut out = budgets_get(engine).await?;
    out["ignored"] = json!(ignored);
    Ok(out)
}
