//! The alert state machine: `inactive → pending → firing → resolved` (Prometheus' `for` and
//! `keep_firing_for`). One [`RuleState`] per rule; [`RuleState::step`] applies one observation
//! at `now` and returns the transition it made, if any. Time is only what the caller passes.

use serde::Serialize;

use crate::alert_rules::Observation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Inactive,
    Pending,
    Firing,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }
}

/// One rule's state and the last observation behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleState {
    pub state: AlertState,
    /// When the current state was entered (epoch ms).
    pub since: i64,
    /// When the current episode started (pending start; kept through firing and resolved).
    pub active_at: Option<i64>,
    /// When a firing alert's condition last stopped holding (keep_firing_for counts from here).
    pub cleared_at: Option<i64>,
    pub last: Option<Observation>,
}

impl Default for RuleState {
    fn default() -> Self {
        RuleState {
            state: AlertState::Inactive,
            since: 0,
            active_at: None,
            cleared_at: None,
            last: None,
        }
    }
}

/// A change of state: `from → to` at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub from: AlertState,
    pub to: AlertState,
}

impl RuleState {
    fn enter(&mut self, to: AlertState, now: i64) -> Option<Step> {
        let from = self.state;
        self.state = to;
        self.since = now;
        Some(Step { from, to })
    }

    /// Applies `obs` at `now`. `for_ms` 0 fires on the first holding observation.
    pub fn step(&mut self, obs: Observation, now: i64, for_ms: i64, keep_ms: i64) -> Option<Step> {
        let holds = obs.condition;
        self.last = Some(obs);
        match self.state {
            AlertState::Inactive | AlertState::Resolved if holds => {
                self.active_at = Some(now);
                self.cleared_at = None;
                if for_ms <= 0 {
                    self.enter(AlertState::Firing, now)
                } else {
                    self.enter(AlertState::Pending, now)
                }
            }
            AlertState::Inactive | AlertState::Resolved => None,
            AlertState::Pending if holds => {
                let started = self.active_at.unwrap_or(now);
                (now - started >= for_ms)
                    .then(|| self.enter(AlertState::Firing, now))
                    .flatten()
            }
            AlertState::Pending => {
                self.active_at = None;
                self.enter(AlertState::Inactive, now)
            }
            AlertState::Firing if holds => {
                self.cleared_at = None;
                None
            }
            AlertState::Firing => {
                let cleared = *self.cleared_at.get_or_insert(now);
                (now - cleared >= keep_ms)
                    .then(|| self.enter(AlertState::Resolved, now))
                    .flatten()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(condition: bool) -> Observation {
        Observation {
            condition,
            burn_rate: if condition { 20.0 } else { 0.0 },
            burn_rate_short: 0.0,
            samples: 100,
        }
    }

    #[test]
    fn pending_waits_for_then_fires_and_keep_firing_for_holds_it() {
        let mut s = RuleState::default();
        let m = 60_000;
        assert_eq!(
            s.step(obs(true), 0, 2 * m, 5 * m).unwrap().to,
            AlertState::Pending
        );
        assert_eq!(
            s.step(obs(true), m, 2 * m, 5 * m),
            None,
            "for not yet elapsed"
        );
        assert_eq!(
            s.step(obs(true), 2 * m, 2 * m, 5 * m).unwrap().to,
            AlertState::Firing
        );
        assert_eq!(s.step(obs(false), 3 * m, 2 * m, 5 * m), None, "kept firing");
        assert_eq!(s.step(obs(true), 4 * m, 2 * m, 5 * m), None, "holds again");
        assert_eq!(s.step(obs(false), 5 * m, 2 * m, 5 * m), None);
        let done = s.step(obs(false), 10 * m, 2 * m, 5 * m).unwrap();
        assert_eq!(
            (done.from, done.to),
            (AlertState::Firing, AlertState::Resolved)
        );
        assert_eq!(s.active_at, Some(0), "the episode start is kept");
    }

    #[test]
    fn a_blip_shorter_than_for_goes_back_to_inactive() {
        let mut s = RuleState::default();
        s.step(obs(true), 0, 120_000, 0);
        let back = s.step(obs(false), 60_000, 120_000, 0).unwrap();
        assert_eq!(
            (back.from, back.to),
            (AlertState::Pending, AlertState::Inactive)
        );
    }
}
