//! Operator scopes (exact strings from the protocol) and scope sets.

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
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Write, Scope::Admin, Scope::Approvals];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "operator.read",
            Scope::Write => "operator.write",
            Scope::Admin => "operator.admin",
            Scope::Approvals => "operator.approvals",
        }
    }

    /// Parses an exact scope string; the short forms `read`, `write`, `admin`, `approvals`
    /// are accepted too (handy on the command line).
    pub fn parse(s: &str) -> Result<Scope, Error> {
        let t = s.trim();
        let short = t.strip_prefix("operator.").unwrap_or(t);
        match short {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            "admin" => Ok(Scope::Admin),
            "approvals" => Ok(Scope::Approvals),
            _ => Err(Error::invalid(format!(
                "unknown scope '{s}': expected one of operator.read, operator.write, operator.admin, operator.approvals"
            ))),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A small set of scopes (a bit set). `operator.admin` satisfies every check.
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
        }
    }
    pub fn insert(&mut self, s: Scope) {
        self.0 |= Self::bit(s);
    }
    pub fn contains_exact(&self, s: Scope) -> bool {
        self.0 & Self::bit(s) != 0
    }
    /// True when this set grants `needed`: admin passes every check.
    pub fn allows(&self, needed: Scope) -> bool {
        self.contains_exact(Scope::Admin) || self.contains_exact(needed)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_passes_every_check_but_others_need_the_exact_scope() {
        let admin: ScopeSet = [Scope::Admin].into_iter().collect();
        let read: ScopeSet = [Scope::Read].into_iter().collect();
        for s in Scope::ALL {
            assert!(admin.allows(s), "admin must allow {s}");
        }
        assert!(read.allows(Scope::Read));
        assert!(!read.allows(Scope::Write), "read must not imply write");
    }

    #[test]
    fn unknown_scope_names_the_allowed_values() {
        let err = ScopeSet::parse_list(&["operator.read", "operator.root"]).unwrap_err();
        assert!(
            err.message.contains("operator.root") && err.message.contains("operator.approvals")
        );
    }

    #[test]
    fn csv_round_trips_sorted() {
        let set = ScopeSet::parse_list(&["write", "operator.read"]).unwrap();
        assert_eq!(set.to_csv(), "operator.read,operator.write");
        assert_eq!(ScopeSet::from_csv(&set.to_csv()), set);
    }
}
