//! Token use per session, counted from finished runs (OpenClaw's `totalTokens`,
//! `inputTokens`, `outputTokens`, `contextTokens` on a session row). Held in memory, bounded;
//! the mirror file seeds it again after a restart.

use parking_lot::Mutex;
use std::collections::HashMap;

/// Sessions tracked at most; past it the least recently used entry goes first.
pub const MAX_TRACKED_SESSIONS: usize = 100_000;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionUsage {
    /// The generation the counts belong to (a reset starts from zero).
    pub session_id: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The last run's prompt plus reply: what the session's context holds now.
    pub context_tokens: u64,
    pub model: Option<String>,
    pub provider: Option<String>,
    /// USD summed over the priced runs (0 while the model has no price).
    pub cost_usd: f64,
    /// Engine-clock ms of the last change.
    pub updated_at: i64,
}

impl SessionUsage {
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

/// One finished run's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct RunUsage<'a> {
    pub session_key: &'a str,
    pub session_id: &'a str,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub model: &'a str,
    pub provider: &'a str,
    /// USD when the model has a price (`[pricing]`); None adds nothing.
    pub cost_usd: Option<f64>,
    pub now: i64,
}

#[derive(Debug, Default)]
pub struct UsageBook {
    inner: Mutex<HashMap<String, SessionUsage>>,
}

impl UsageBook {
    /// The session's counts for generation `session_id` (zero for another generation).
    pub fn get(&self, key: &str, session_id: &str) -> SessionUsage {
        match self.inner.lock().get(key) {
            Some(u) if u.session_id == session_id => u.clone(),
            _ => SessionUsage {
                session_id: session_id.to_string(),
                ..Default::default()
            },
        }
    }

    pub fn add_run(&self, run: &RunUsage<'_>) {
        let mut map = self.inner.lock();
        let entry = map.entry(run.session_key.to_string()).or_default();
        if entry.session_id != run.session_id {
            *entry = SessionUsage {
                session_id: run.session_id.to_string(),
                ..Default::default()
            };
        }
        entry.input_tokens += run.input_tokens;
        entry.output_tokens += run.output_tokens;
        entry.context_tokens = run.input_tokens + run.output_tokens;
        if let Some(c) = run.cost_usd.filter(|c| c.is_finite() && *c >= 0.0) {
            entry.cost_usd += c;
        }
        if !run.model.is_empty() {
            entry.model = Some(run.model.to_string());
        }
        if !run.provider.is_empty() {
            entry.provider = Some(run.provider.to_string());
        }
        entry.updated_at = run.now;
        evict_over_cap(&mut map);
    }

    /// Puts back counts read from an earlier mirror file (kept only when not known yet).
    pub fn seed(&self, key: &str, usage: SessionUsage) {
        let mut map = self.inner.lock();
        map.entry(key.to_string()).or_insert(usage);
        evict_over_cap(&mut map);
    }

    pub fn forget(&self, key: &str) {
        self.inner.lock().remove(key);
    }

    pub fn len(&self) -> usize {
        self.inner.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn evict_over_cap(map: &mut HashMap<String, SessionUsage>) {
    while map.len() > MAX_TRACKED_SESSIONS {
        let oldest = map
            .iter()
            .min_by_key(|(_, u)| u.updated_at)
            .map(|(k, _)| k.clone());
        match oldest {
            Some(k) => map.remove(&k),
            None => break,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<'a>(key: &'a str, sid: &'a str, i: u64, o: u64) -> RunUsage<'a> {
        RunUsage {
            session_key: key,
            session_id: sid,
            input_tokens: i,
            output_tokens: o,
            model: "m1",
            provider: "p",
            cost_usd: Some(0.25),
            now: 5,
        }
    }

    #[test]
    fn runs_add_up_per_generation_and_a_new_generation_starts_at_zero() {
        let book = UsageBook::default();
        book.add_run(&run("a", "g1", 10, 5));
        book.add_run(&run("a", "g1", 20, 7));
        let u = book.get("a", "g1");
        assert_eq!(
            (u.input_tokens, u.output_tokens, u.total_tokens()),
            (30, 12, 42)
        );
        assert_eq!(u.context_tokens, 27, "the last run's prompt and reply");
        assert_eq!(u.model.as_deref(), Some("m1"));
        assert_eq!(u.cost_usd, 0.5, "two priced runs");
        assert_eq!(book.get("a", "g2").total_tokens(), 0, "after a reset");
        book.add_run(&run("a", "g2", 1, 1));
        assert_eq!(book.get("a", "g2").total_tokens(), 2);
        book.seed("a", SessionUsage::default());
        assert_eq!(
            book.get("a", "g2").total_tokens(),
            2,
            "a seed never overwrites"
        );
        book.forget("a");
        assert!(book.is_empty());
    }
}
