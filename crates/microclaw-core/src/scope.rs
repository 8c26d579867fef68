//! Operator scopes (exact strings from the protocol), scope sets, OpenClaw's implication rule
//! and the one table of actions whose scope both transports must agree on.
//!
//! The rule (decisions.md "Scopes"): `operator.admin` satisfies every scope, `operator.write`
//! satisfies `operator.read`; nothing else implies `operator.approvals` or `operator.pairing`.

use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "operator.read")]
    Read,
    #[serde(rename = "operator.write")]
    Write,
    #[serde(rename = "operator.admin")]
    Admin,
    #[serde(rename = "operator.approvals")]
    Approvals,
    #[serde(rename = "operator.pairing")]
    Pairing,
}

const EXPECTED: &str = "expected one of operator.read, operator.write, operator.admin, operator.approvals, operator.pairing";

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::Read,
        Scope::Write,
        Scope::Admin,
        Scope::Approvals,
        Scope::Pairing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "operator.read",
            Scope::Write => "operator.write",
            Scope::Admin => "operator.admin",
            Scope::Approvals => "operator.approvals",
            Scope::Pairing => "operator.pairing",
        }
    }

    /// Parses an exact scope string; the short forms `read`, `write`, `admin`, `approvals`,
    /// `pairing` are accepted too (handy on the command line).
    pub fn parse(s: &str) -> Result<Scope, Error> {
        let t = s.trim();
        let short = t.strip_prefix("operator.").unwrap_or(t);
        match short {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            "admin" => Ok(Scope::Admin),
            "approvals" => Ok(Scope::Approvals),
            "pairing" => Ok(Scope::Pairing),
            _ => Err(Error::invalid(format!("unknown scope '{s}': {EXPECTED}"))),
        }
    }

    /// True when holding `self` satisfies a check for `needed` (OpenClaw's rule).
    pub fn satisfies(self, needed: Scope) -> bool {
        self == needed || self == Scope::Admin || (self == Scope::Write && needed == Scope::Read)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A small set of scopes (a bit set). Checks go through [`ScopeSet::allows`] (the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ScopeSet(u8);

impl ScopeSet {
    pub const EMPTY: ScopeSet = ScopeSet(0);

    pub fn all() -> ScopeSet {
        Scope::ALL.iter().copied().collect()
    }
    fn bit(s: Scope) -> u8 {
        match s {
            Scope::Read => 1,
            Scope::Write => 2,
            Scope::Admin => 4,
            Scope::Approvals => 8,
            Scope::Pairing => 16,
        }
    }
    pub fn insert(&mut self, s: Scope) {
        self.0 |= Self::bit(s);
    }
    pub fn contains_exact(&self, s: Scope) -> bool {
        self.0 & Self::bit(s) != 0
    }
    /// True when this set grants `needed`: exactly, or implied (admin → all, write → read).
    pub fn allows(&self, needed: Scope) -> bool {
        self.iter().any(|held| held.satisfies(needed))
    }
    pub fn intersect(&self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & other.0)
    }
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
    /// Sorted scope strings.
    pub fn to_strings(&self) -> Vec<String> {
        let mut v: Vec<String> = self.iter().map(|s| s.as_str().to_string()).collect();
        v.sort();
        v
    }
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        Scope::ALL.into_iter().filter(|s| self.contains_exact(*s))
    }
    /// Parses a list of scope strings; an unknown one is an error naming it.
    pub fn parse_list<S: AsRef<str>>(items: &[S]) -> Result<ScopeSet, Error> {
        let mut set = ScopeSet::EMPTY;
        for s in items {
            set.insert(Scope::parse(s.as_ref())?);
        }
        Ok(set)
    }
    /// Comma-joined sorted scope strings (storage format).
    pub fn to_csv(&self) -> String {
        self.to_strings().join(",")
    }
    /// Parses the storage format; unknown entries are skipped.
    pub fn from_csv(s: &str) -> ScopeSet {
        s.split(',').filter_map(|p| Scope::parse(p).ok()).collect()
    }

    /// The scopes a connection gets (gateway-protocol.md §2.7): each requested scope the
    /// credential grants (exactly or by implication). Strings this server does not know
    /// (`operator.talk`, …) are ignored; when nothing known is requested the credential's
    /// own scopes apply.
    pub fn effective<S: AsRef<str>>(granted: ScopeSet, requested: Option<&[S]>) -> ScopeSet {
        let requested: ScopeSet = requested
            .unwrap_or(&[])
            .iter()
            .filter_map(|s| Scope::parse(s.as_ref()).ok())
            .collect();
        if requested.is_empty() {
            return granted;
        }
        requested.iter().filter(|s| granted.allows(*s)).collect()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut set = ScopeSet::EMPTY;
        for s in iter {
            set.insert(s);
        }
        set
    }
}

/// Actions both transports expose whose scope must be the same everywhere (decisions.md
/// "Scopes" table): HTTP routes as `"POST /api/…"`, bridge methods by name.
pub const ACTION_SCOPES: &[(&str, Scope)] = &[
    ("POST /api/delete_session", Scope::Approvals),
    ("POST /api/reset", Scope::Approvals),
    ("POST /api/sessions/fork", Scope::Approvals),
    ("sessions.delete", Scope::Approvals),
    ("session_delete", Scope::Approvals),
    ("sessions_delete", Scope::Approvals),
    ("sessions.reset", Scope::Approvals),
    ("sessions.fork", Scope::Approvals),
    ("chat.inject", Scope::Admin),
];

/// The scope the shared table assigns to `action` (an HTTP `"METHOD /path"` or a bridge
/// method name), if it lists it. Prefixes `device.pair.`, `device.token.` need pairing;
/// `exec.approval.` and `approval.` need approvals.
pub fn action_scope(action: &str) -> Option<Scope> {
    if let Some((_, s)) = ACTION_SCOPES.iter().find(|(a, _)| *a == action) {
        return Some(*s);
    }
    if action.starts_with("device.pair.") || action.starts_with("device.token.") {
        return Some(Scope::Pairing);
    }
    if action.starts_with("exec.approval.") || action.starts_with("approval.") {
        return Some(Scope::Approvals);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> ScopeSet {
        ScopeSet::parse_list(items).unwrap_or_default()
    }

    #[test]
    fn admin_satisfies_all_write_satisfies_read_and_nothing_implies_approvals_or_pairing() {
        for s in Scope::ALL {
            assert!(set(&["admin"]).allows(s), "admin must allow {s}");
        }
        assert!(set(&["write"]).allows(Scope::Read), "write implies read");
        assert!(
            !set(&["read"]).allows(Scope::Write),
            "read must not imply write"
        );
        for held in [Scope::Read, Scope::Write, Scope::Pairing] {
            let h: ScopeSet = [held].into_iter().collect();
            assert!(
                !h.allows(Scope::Approvals),
                "{held} must not imply approvals"
            );
        }
        for held in [Scope::Read, Scope::Write, Scope::Approvals] {
            let h: ScopeSet = [held].into_iter().collect();
            assert!(!h.allows(Scope::Pairing), "{held} must not imply pairing");
            assert!(!h.allows(Scope::Admin), "{held} must not imply admin");
        }
        assert!(!set(&["approvals"]).allows(Scope::Read));
    }

    #[test]
    fn effective_scopes_follow_the_request_under_the_rule() {
        let rw = set(&["read", "write"]);
        assert_eq!(ScopeSet::effective::<String>(rw, None), rw);
        let only_write = ScopeSet::effective(rw, Some(&["operator.write"]));
        assert_eq!(only_write, set(&["write"]));
        assert!(
            only_write.allows(Scope::Read),
            "write-only request may still read"
        );
        assert_eq!(
            ScopeSet::effective(set(&["read"]), Some(&["operator.write"])),
            ScopeSet::EMPTY
        );
        assert_eq!(
            ScopeSet::effective(set(&["admin"]), Some(&["operator.read", "operator.write"])),
            rw,
            "admin grants whatever is requested"
        );
        assert_eq!(
            ScopeSet::effective(rw, Some(&["operator.talk", "operator.questions"])),
            rw,
            "unknown operator.* strings are ignored"
        );
        assert_eq!(
            ScopeSet::effective(rw, Some(&["operator.read", "operator.talk"])),
            set(&["read"])
        );
    }

    #[test]
    fn unknown_scope_names_the_allowed_values() {
        let err = ScopeSet::parse_list(&["operator.read", "operator.root"]).unwrap_err();
        assert!(err.message.contains("operator.root") && err.message.contains("operator.pairing"));
    }

    #[test]
    fn csv_round_trips_sorted() {
        let s = set(&["write", "operator.read", "pairing"]);
        assert_eq!(s.to_csv(), "operator.pairing,operator.read,operator.write");
        assert_eq!(ScopeSet::from_csv(&s.to_csv()), s);
    }

    #[test]
    fn destructive_session_actions_need_approvals_on_both_transports() {
        for a in [
            "POST /api/delete_session",
            "POST /api/reset",
            "POST /api/sessions/fork",
            "sessions.delete",
            "session_delete",
            "sessions.reset",
            "sessions.fork",
            "exec.approval.resolve",
        ] {
            assert_eq!(action_scope(a), Some(Scope::Approvals), "{a}");
        }
        assert_eq!(action_scope("device.pair.list"), Some(Scope::Pairing));
        assert_eq!(action_scope("chat.send"), None);
    }
}
