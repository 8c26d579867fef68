//! Budgets: token and USD caps (global and per agent), the runaway guards, the price table,
//! and the guard the run registry calls to admit, meter and settle runs
//! (docs/usage-budgets.md).
//!
//! - Caps come from `[budgets]`; an admin's run-time edit (`budgets.set`, `PUT /api/budgets`)
//!   replaces them and is kept in the store (setting `budgets.runtime`), winning over the file.
//! - Daily windows run 00:00–00:00 in `budgets.timezone` (engine clock).
//! - A run's use is measured against the finished runs' totals read when it began plus what
//!   it has used so far; runs in flight elsewhere are counted once they end.

mod caps;
mod meter;
mod patch;
pub mod window;

pub use caps::CapUse;
pub use patch::apply_patch;

use crate::events::EngineEvent;
use caps::Measure;
use chrono_tz::Tz;
use microclaw_agent::{BoxFuture, BudgetGuard, BudgetStop, MeterStart, RunMeter, StopReason};
use microclaw_core::config::{BudgetCaps, BudgetsConfig, Config, ModelPrice};
use microclaw_core::{Error, Result, SharedClock};
use microclaw_metrics::Metrics;
use microclaw_store::{Store, UsageTotals};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use tokio::sync::broadcast;

/// The store setting holding the run-time budget edits.
pub const RUNTIME_SETTING: &str = "budgets.runtime";
/// Warnings remembered (cap × window) before the set is cleared.
const WARNED_MAX: usize = 10_000;

pub struct Budgets {
    cfg: Mutex<(BudgetsConfig, Tz)>,
    pricing: BTreeMap<String, ModelPrice>,
    store: Store,
    clock: SharedClock,
    events: broadcast::Sender<EngineEvent>,
    metrics: Arc<Metrics>,
    warned: Mutex<HashSet<String>>,
}

impl Budgets {
    /// Reads `[budgets]` and `[pricing]`; a stored run-time edit replaces the file's caps.
    /// Called once at engine open (before serving: the one blocking read is harmless).
    pub fn new(
        config: &Config,
        store: Store,
        clock: SharedClock,
        events: broadcast::Sender<EngineEvent>,
        metrics: Arc<Metrics>,
    ) -> Result<Arc<Budgets>> {
        let mut cfg = config.budgets.clone();
        match store.setting_get(RUNTIME_SETTING) {
            Ok(Some(text)) => match serde_json::from_str::<BudgetsConfig>(&text) {
                Ok(saved) if saved.validate().is_ok() => cfg = saved,
                _ => {
                    tracing::warn!("ignoring an unreadable stored budgets edit ({RUNTIME_SETTING})")
                }
            },
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not read the stored budgets edit"),
        }
        let tz = window::parse_zone(&cfg.timezone)?;
        Ok(Arc::new(Budgets {
            cfg: Mutex::new((cfg, tz)),
            pricing: config.pricing.clone(),
            store,
            clock,
            events,
            metrics,
            warned: Mutex::new(HashSet::new()),
        }))
    }

    pub fn config(&self) -> BudgetsConfig {
        self.cfg.lock().0.clone()
    }

    pub fn zone(&self) -> Tz {
        self.cfg.lock().1
    }

    /// Replaces the caps now (new and running runs see them at their next check).
    pub fn replace(&self, cfg: BudgetsConfig) -> Result<()> {
        cfg.validate()?;
        let tz = window::parse_zone(&cfg.timezone)?;
        *self.cfg.lock() = (cfg, tz);
        Ok(())
    }

    /// USD for a run of `model`; `None` when the model has no price (never a guess).
    pub fn cost(&self, model: &str, input: u64, output: u64) -> Option<f64> {
        self.pricing.get(model).map(|p| p.cost(input, output))
    }

    pub fn priced(&self, model: &str) -> bool {
        self.pricing.contains_key(model)
    }

    /// The global caps and the agent's caps (when it has any).
    fn caps_for(&self, agent_id: &str) -> (BudgetCaps, Option<BudgetCaps>, f64) {
        let g = self.cfg.lock();
        (
            g.0.caps(),
            g.0.agents.get(agent_id).cloned(),
            g.0.warn_ratio,
        )
    }

    /// True when some cap applies to runs of `agent_id` (else no totals need reading).
    fn has_caps(&self, agent_id: &str) -> bool {
        let g = self.cfg.lock();
        !g.0.caps().is_empty() || g.0.agents.get(agent_id).is_some_and(|c| !c.is_empty())
    }

    /// Every cap with its use for a run of `agent_id` in `session_key` measured by `m`.
    fn uses(&self, agent_id: &str, m: &Measure) -> (Vec<CapUse>, f64) {
        let (global, agent, ratio) = self.caps_for(agent_id);
        (
            caps::uses(&global, agent.as_ref().map(|c| (agent_id, c)), m),
            ratio,
        )
    }

    pub(crate) fn today(&self) -> (String, i64) {
        let now = self.clock.now_ms();
        let tz = self.zone();
        (window::day_of(tz, now), window::next_reset_ms(tz, now))
    }

    /// Totals of finished runs for the budget checks.
    pub(crate) async fn totals(
        &self,
        day: String,
        agent: &str,
        session: &str,
    ) -> Result<UsageTotals> {
        let (a, s) = (agent.to_string(), session.to_string());
        self.store
            .read_async(move |st| st.usage_totals(&day, &a, &s))
            .await
    }

    /// Sends `budget.warning` for `u` unless it was sent in this window already.
    fn warn(&self, u: &CapUse, session_key: &str, run_id: &str) {
        let window = match (u.cap, u.resets_at_ms) {
            (_, Some(at)) => at.to_string(),
            ("per_session_tokens", _) => session_key.to_string(),
            _ => run_id.to_string(),
        };
        let key = format!("{}|{window}", u.name());
        {
            let mut w = self.warned.lock();
            if w.len() >= WARNED_MAX {
                w.clear();
            }
            if !w.insert(key) {
                return;
            }
        }
        let mut payload = json!({
            "scope": u.scope(),
            "cap": u.cap,
            "limit": u.limit,
            "used": u.used,
            "ratio": (u.ratio() * 1000.0).round() / 1000.0,
            "resetsAtMs": u.resets_at_ms,
            "message": format!(
                "{} is at {:.0} % ({} of {} {})",
                u.name(), u.ratio() * 100.0, u.used_text(), u.limit_text(), u.unit()
            ),
        });
        if let Some(a) = &u.agent_id {
            payload["agentId"] = json!(a);
        }
        if u.resets_at_ms.is_none() {
            payload["sessionKey"] = json!(session_key);
        }
        if u.cap == "per_run_tokens" {
            payload["runId"] = json!(run_id);
        }
        tracing::info!(cap = %u.name(), used = u.used, limit = u.limit, "budget warning");
        // No receivers is fine: nobody is listening.
        let _ = self.events.send(EngineEvent::BudgetWarning(payload));
    }

    /// Warns for every cap at or past the warning ratio; returns the first crossed cap.
    fn evaluate(
        &self,
        agent_id: &str,
        m: &Measure,
        session_key: &str,
        run_id: &str,
    ) -> Option<CapUse> {
        let (uses, ratio) = self.uses(agent_id, m);
        let mut crossed = None;
        for u in uses {
            if !u.runaway && u.ratio() >= ratio {
                self.warn(&u, session_key, run_id);
            }
            if crossed.is_none() && u.crossed() {
                crossed = Some(u);
            }
        }
        crossed
    }

    /// The exhausted cap a new run of `agent_id` in `session_key` would run into.
    async fn exhausted(&self, session_key: &str, agent_id: &str) -> Result<Option<CapUse>> {
        if !self.has_caps(agent_id) {
            return Ok(None);
        }
        let (day, resets_at_ms) = self.today();
        let totals = self.totals(day, agent_id, session_key).await?;
        let m = Measure {
            totals,
            resets_at_ms,
            ..Measure::default()
        };
        Ok(self
            .uses(agent_id, &m)
            .0
            .into_iter()
            .find(CapUse::exhausted))
    }

    /// The current caps, each with its use and reset time (`budgets.get`).
    pub async fn report(&self) -> Result<Value> {
        let cfg = self.config();
        let (day, resets_at_ms) = self.today();
        let mut rows = Vec::new();
        let mut agents: Vec<(Option<String>, BudgetCaps)> = vec![(None, cfg.caps())];
        agents.extend(cfg.agents.iter().map(|(k, v)| (Some(k.clone()), v.clone())));
        for (agent, caps) in agents {
            let totals = self
                .totals(day.clone(), agent.as_deref().unwrap_or(""), "")
                .await?;
            let m = Measure {
                totals,
                resets_at_ms,
                ..Measure::default()
            };
            let uses = match &agent {
                Some(a) => caps::uses(&BudgetCaps::default(), Some((a.as_str(), &caps)), &m),
                None => caps::uses(&caps, None, &m),
            };
            for u in uses {
                let daily = u.resets_at_ms.is_some();
                rows.push(json!({
                    "cap": u.cap,
                    "name": u.name(),
                    "scope": u.scope(),
                    "agentId": u.agent_id,
                    "limit": u.limit,
                    "used": if daily { json!(u.used) } else { Value::Null },
                    "ratio": if daily { json!(u.ratio()) } else { Value::Null },
                    "resetsAtMs": u.resets_at_ms,
                    "kind": if u.runaway { "runaway" } else { "budget" },
                    "window": if daily { "day" } else if u.cap == "per_session_tokens" { "session" } else { "run" },
                    "exhausted": daily && u.exhausted(),
                }));
            }
        }
        let mut out = patch::flat_json(&cfg);
        out["day"] = json!(day);
        out["resetsAtMs"] = json!(resets_at_ms);
        out["caps"] = Value::Array(rows);
        Ok(out)
    }
}

/// The refusal of a new run under an exhausted cap.
fn refusal(u: &CapUse, now_ms: i64) -> Error {
    let daily = u.resets_at_ms.is_some();
    let until = match u.resets_at_ms {
        Some(at) => format!(
            "until the daily window resets at {}",
            chrono::DateTime::from_timestamp_millis(at)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default()
        ),
        None => "for this session (it never resets: raise the cap or use another session)".into(),
    };
    let msg = format!(
        "budget exhausted: {} = {} {} and {} are used; new runs are refused {until}",
        u.name(),
        u.limit_text(),
        u.unit(),
        u.used_text()
    );
    let mut e = Error::unavailable(msg).with_details(json!({
        "code": "BUDGET_EXCEEDED",
        "cap": u.name(),
        "limit": u.limit,
        "used": u.used,
        "resetsAtMs": u.resets_at_ms,
        "retryable": daily,
    }));
    e.retry_after_ms = u
        .resets_at_ms
        .map(|at| u64::try_from(at - now_ms).unwrap_or(0).max(1));
    e
}

/// The guard the run registry holds.
pub struct Guard(pub Arc<Budgets>);

impl BudgetGuard for Guard {
    fn admit(&self, session_key: &str, agent_id: &str) -> BoxFuture<'static, Result<()>> {
        let b = self.0.clone();
        let (key, agent) = (session_key.to_string(), agent_id.to_string());
        Box::pin(async move {
            match b.exhausted(&key, &agent).await? {
                Some(u) => Err(refusal(&u, b.clock.now_ms())),
                None => Ok(()),
            }
        })
    }

    fn begin(
        &self,
        start: MeterStart,
    ) -> BoxFuture<'static, std::result::Result<Box<dyn RunMeter>, BudgetStop>> {
        let b = self.0.clone();
        Box::pin(async move {
            let (day, resets_at_ms) = b.today();
            // Without caps nothing is read (the run is still metered for its cost).
            let totals = if b.has_caps(&start.agent_id) {
                b.totals(day, &start.agent_id, &start.session_key).await
            } else {
                Ok(UsageTotals::default())
            };
            let totals = match totals {
                Ok(t) => t,
                Err(e) => {
                    // Without the totals the run is metered from zero (and the miss logged).
                    tracing::warn!(error = %e, "could not read usage totals for the budget check");
                    UsageTotals::default()
                }
            };
            let m = Measure {
                totals,
                resets_at_ms,
                ..Measure::default()
            };
            if let Some(u) = b
                .uses(&start.agent_id, &m)
                .0
                .into_iter()
                .find(CapUse::exhausted)
            {
                return Err(BudgetStop {
                    reason: StopReason::Budget,
                    message: refusal(&u, b.clock.now_ms()).message,
                });
            }
            Ok(Box::new(meter::Meter::new(b, start, totals, resets_at_ms)) as Box<dyn RunMeter>)
        })
    }
}
