//! A fixed-capacity, lock-free table of label names (HTTP route templates, bridge methods).
//!
//! Each slot is a `OnceLock<&'static str>` plus a few atomic counters. A name is hashed to a
//! slot and probed linearly; the first use of a new name initialises a free slot (a one-time
//! `Once`, never held across an await), every later use is atomic loads and one atomic add.
//! When the table is full, names go to the `"other"` slot. If two threads race to add the
//! same new name it may occupy two slots; readers merge slots by name.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Label used when the table is full.
pub const OTHER: &str = "other";

pub struct LabelSlot<const K: usize> {
    name: OnceLock<&'static str>,
    counts: [AtomicU64; K],
}

pub struct LabelTable<const K: usize> {
    slots: Box<[LabelSlot<K>]>,
    other: LabelSlot<K>,
}

fn new_slot<const K: usize>() -> LabelSlot<K> {
    LabelSlot {
        name: OnceLock::new(),
        counts: std::array::from_fn(|_| AtomicU64::new(0)),
    }
}

#[inline]
fn hash(name: &str) -> usize {
    // FNV-1a: cheap for the short names used as labels.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as usize
}

impl<const K: usize> LabelTable<K> {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        LabelTable {
            slots: (0..capacity).map(|_| new_slot()).collect(),
            other: new_slot(),
        }
    }

    #[inline]
    fn slot(&self, name: &'static str) -> &LabelSlot<K> {
        let n = self.slots.len();
        let start = hash(name) % n;
        for i in 0..n {
            let slot = &self.slots[(start + i) % n];
            let current = match slot.name.get() {
                Some(existing) => *existing,
                None => *slot.name.get_or_init(|| name),
            };
            if std::ptr::eq(current, name) || current == name {
                return slot;
            }
        }
        &self.other
    }

    /// Adds 1 to counter `k` of `name` (k < K; larger k is ignored).
    #[inline]
    pub fn incr(&self, name: &'static str, k: usize) {
        if let Some(c) = self.slot(name).counts.get(k) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// (name, counts) for every used slot, merged by name, sorted by name.
    pub fn snapshot(&self) -> Vec<(&'static str, [u64; K])> {
        let mut out: Vec<(&'static str, [u64; K])> = Vec::new();
        let used = self
            .slots
            .iter()
            .filter_map(|s| s.name.get().map(|n| (*n, s)));
        let other = std::iter::once((OTHER, &self.other));
        for (name, slot) in used.chain(other) {
            let counts: [u64; K] = std::array::from_fn(|k| slot.counts[k].load(Ordering::Relaxed));
            if name == OTHER && counts.iter().all(|c| *c == 0) {
                continue;
            }
            match out.iter_mut().find(|(n, _)| *n == name) {
                Some((_, acc)) => acc.iter_mut().zip(counts).for_each(|(a, c)| *a += c),
                None => out.push((name, counts)),
            }
        }
        out.sort_by(|a, b| a.0.cmp(b.0));
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_name_and_overflows_into_other() {
        let t: LabelTable<2> = LabelTable::new(2);
        t.incr("/a", 0);
        t.incr("/a", 1);
        t.incr("/b", 0);
        t.incr("/c", 0); // table full
        t.incr("/a", 0);
        let snap = t.snapshot();
        assert_eq!(snap, vec![("/a", [2, 1]), ("/b", [1, 0]), (OTHER, [1, 0])]);
    }

    #[test]
    fn equal_names_at_different_addresses_share_a_slot() {
        let t: LabelTable<1> = LabelTable::new(8);
        let a: &'static str = Box::leak("/api/x".to_string().into_boxed_str());
        t.incr("/api/x", 0);
        t.incr(a, 0);
        assert_eq!(t.snapshot(), vec![("/api/x", [2])]);
    }
}
