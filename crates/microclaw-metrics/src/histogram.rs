//! Fixed log-linear bucket histograms.
//!
//! Values below 16 get one bucket each; above that every power of two is split into 16
//! linear sub-buckets (about 6 % relative width). Values at or above 2^40 land in the last
//! bucket. Recording is three relaxed atomic adds; quantiles walk the buckets once
//! (O(buckets)), never sorting samples, and snapshots merge by adding bucket counts.

use std::sync::atomic::{AtomicU64, Ordering};

use microclaw_core::{Error, Result};

const SUB_BITS: u32 = 4;
const SUB: usize = 1 << SUB_BITS; // 16 sub-buckets per power of two
const MAX_EXP: u32 = 40; // values >= 2^40 are clamped into the last bucket
/// Number of buckets of every histogram.
pub const BUCKETS: usize = SUB + (MAX_EXP - SUB_BITS) as usize * SUB;

/// Bucket index of a value.
pub fn bucket_index(v: u64) -> usize {
    if v < SUB as u64 {
        return v as usize;
    }
    let e = 63 - v.leading_zeros();
    if e >= MAX_EXP {
        return BUCKETS - 1;
    }
    let sub = ((v >> (e - SUB_BITS)) as usize) & (SUB - 1);
    SUB + (e - SUB_BITS) as usize * SUB + sub
}

/// Inclusive value range `[low, high]` covered by a bucket.
pub fn bucket_range(idx: usize) -> (u64, u64) {
    if idx < SUB {
        return (idx as u64, idx as u64);
    }
    let e = ((idx - SUB) / SUB) as u32 + SUB_BITS;
    let sub = ((idx - SUB) % SUB) as u64;
    let shift = e - SUB_BITS;
    let low = (SUB as u64 + sub) << shift;
    let high = ((SUB as u64 + sub + 1) << shift) - 1;
    (low, high)
}

/// The recording side: lock-free, allocation-free after construction.
pub struct AtomicHistogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    sum: AtomicU64,
}

impl Default for AtomicHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl AtomicHistogram {
    pub fn new() -> Self {
        AtomicHistogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
        }
    }

    #[inline]
    pub fn record(&self, v: u64) {
        self.buckets[bucket_index(v)].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(v, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// A plain copy of the buckets (allocates; not for the hot path).
    pub fn snapshot(&self) -> HistogramSnapshot {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        // Derive count from the buckets so a snapshot is always self-consistent.
        let count = counts.iter().sum();
        HistogramSnapshot {
            counts,
            count,
            sum: self.sum.load(Ordering::Relaxed),
        }
    }
}

/// A mergeable copy of a histogram (dense buckets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistogramSnapshot {
    counts: Vec<u64>,
    count: u64,
    sum: u64,
}

impl Default for HistogramSnapshot {
    fn default() -> Self {
        HistogramSnapshot {
            counts: vec![0; BUCKETS],
            count: 0,
            sum: 0,
        }
    }
}

impl HistogramSnapshot {
    pub fn count(&self) -> u64 {
        self.count
    }
    pub fn sum(&self) -> u64 {
        self.sum
    }
    pub fn bucket_counts(&self) -> &[u64] {
        &self.counts
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds another snapshot into this one.
    pub fn merge(&mut self, other: &HistogramSnapshot) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += *b;
        }
        self.count += other.count;
        self.sum += other.sum;
    }

    /// `self - earlier` (saturating), for deltas between two snapshots of one histogram.
    pub fn delta_since(&self, earlier: &HistogramSnapshot) -> HistogramSnapshot {
        let counts: Vec<u64> = self
            .counts
            .iter()
            .zip(earlier.counts.iter())
            .map(|(a, b)| a.saturating_sub(*b))
            .collect();
        let count = counts.iter().sum();
        HistogramSnapshot {
            counts,
            count,
            sum: self.sum.saturating_sub(earlier.sum),
        }
    }

    /// The value at quantile `q` (0..=1): the midpoint of the bucket that holds it, clamped
    /// to the bucket range. 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let q = q.clamp(0.0, 1.0);
        let rank = ((q * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (idx, c) in self.counts.iter().enumerate() {
            seen += *c;
            if seen >= rank {
                let (low, high) = bucket_range(idx);
                return low + (high - low) / 2;
            }
        }
        bucket_range(BUCKETS - 1).0
    }

    /// Number of samples `<= le` (whole buckets whose upper bound is `<= le`).
    pub fn count_le(&self, le: u64) -> u64 {
        self.counts
            .iter()
            .enumerate()
            .take_while(|(idx, _)| bucket_range(*idx).1 <= le)
            .map(|(_, c)| *c)
            .sum()
    }

    /// The non-empty buckets, for compact storage.
    pub fn to_sparse(&self) -> SparseHistogram {
        let buckets = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, c)| (i as u16, *c))
            .collect();
        SparseHistogram {
            sum: self.sum,
            buckets,
        }
    }

    /// Adds a sparse histogram into this one (no allocation).
    pub fn merge_sparse(&mut self, other: &SparseHistogram) {
        for (i, c) in &other.buckets {
            if let Some(slot) = self.counts.get_mut(*i as usize) {
                *slot += *c;
                self.count += *c;
            }
        }
        self.sum += other.sum;
    }
}

/// The non-empty buckets of a histogram: what one minute of history stores.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SparseHistogram {
    pub sum: u64,
    /// (bucket index, count), ascending index, counts > 0.
    pub buckets: Vec<(u16, u64)>,
}

impl SparseHistogram {
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|(_, c)| *c).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Adds another sparse histogram (merge of two ascending lists).
    pub fn merge(&mut self, other: &SparseHistogram) {
        if other.buckets.is_empty() {
            self.sum += other.sum;
            return;
        }
        let mut out = Vec::with_capacity(self.buckets.len() + other.buckets.len());
        let (mut a, mut b) = (
            self.buckets.iter().peekable(),
            other.buckets.iter().peekable(),
        );
        loop {
            match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x.0 == y.0 => {
                    out.push((x.0, x.1 + y.1));
                    a.next();
                    b.next();
                }
                (Some(x), Some(y)) if x.0 < y.0 => {
                    out.push(**x);
                    a.next();
                }
                (Some(_), Some(y)) => {
                    out.push(**y);
                    b.next();
                }
                (Some(x), None) => {
                    out.push(**x);
                    a.next();
                }
                (None, Some(y)) => {
                    out.push(**y);
                    b.next();
                }
                (None, None) => break,
            }
        }
        self.buckets = out;
        self.sum += other.sum;
    }

    /// Same as [`HistogramSnapshot::quantile`], straight from the sparse buckets.
    pub fn quantile(&self, q: f64) -> u64 {
        let count = self.count();
        if count == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * count as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (idx, c) in &self.buckets {
            seen += *c;
            if seen >= rank {
                let (low, high) = bucket_range(*idx as usize);
                return low + (high - low) / 2;
            }
        }
        0
    }

    pub fn to_dense(&self) -> HistogramSnapshot {
        let mut d = HistogramSnapshot::default();
        d.merge_sparse(self);
        d
    }

    /// Compact text encoding for storage: `sum;idx:count,idx:count`.
    pub fn encode(&self) -> String {
        let mut out = self.sum.to_string();
        out.push(';');
        for (n, (idx, c)) in self.buckets.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(&idx.to_string());
            out.push(':');
            out.push_str(&c.to_string());
        }
        out
    }

    /// Parses [`encode`](Self::encode) output.
    pub fn decode(s: &str) -> Result<SparseHistogram> {
        let bad = |what: &str| {
            Error::invalid(format!(
                "histogram encoding {s:?} is invalid ({what}); expected \"sum;index:count,index:count\""
            ))
        };
        let (sum, rest) = s.split_once(';').ok_or_else(|| bad("missing ';'"))?;
        let sum = sum.parse().map_err(|_| bad("sum is not a number"))?;
        let mut buckets: Vec<(u16, u64)> = Vec::new();
        for part in rest.split(',').filter(|p| !p.is_empty()) {
            let (i, c) = part
                .split_once(':')
                .ok_or_else(|| bad("bucket without ':'"))?;
            let i: u16 = i.parse().map_err(|_| bad("bucket index is not a number"))?;
            let c: u64 = c.parse().map_err(|_| bad("bucket count is not a number"))?;
            if i as usize >= BUCKETS {
                return Err(bad("bucket index out of range"));
            }
            if buckets.last().is_some_and(|(last, _)| *last >= i) {
                return Err(bad("bucket indexes must ascend"));
            }
            if c > 0 {
                buckets.push((i, c));
            }
        }
        Ok(SparseHistogram { sum, buckets })
    }
}

impl serde::Serialize for SparseHistogram {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.encode())
    }
}

impl<'de> serde::Deserialize<'de> for SparseHistogram {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        SparseHistogram::decode(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_value_falls_inside_its_bucket_range() {
        for v in (0..5000u64).chain([65_535, 1 << 20, (1 << 40) - 1, u64::MAX / 3]) {
            let (low, high) = bucket_range(bucket_index(v));
            let clamped = v.min(bucket_range(BUCKETS - 1).1);
            assert!(
                low <= clamped && clamped <= high,
                "{v} not in [{low},{high}]"
            );
        }
    }

    #[test]
    fn quantiles_are_within_bucket_precision() {
        let h = AtomicHistogram::new();
        for v in 1..=1000u64 {
            h.record(v);
        }
        let s = h.snapshot();
        for (q, expect) in [(0.5, 500.0), (0.95, 950.0), (0.99, 990.0)] {
            let got = s.quantile(q) as f64;
            assert!(
                (got - expect).abs() / expect < 0.07,
                "q{q}: {got} vs {expect}"
            );
        }
        assert_eq!(s.count(), 1000);
        assert_eq!(s.sum(), 500_500);
    }

    #[test]
    fn sparse_encoding_round_trips_and_merges() {
        let a = AtomicHistogram::new();
        let b = AtomicHistogram::new();
        [3, 70, 70, 9000].iter().for_each(|v| a.record(*v));
        [70, 12_000].iter().for_each(|v| b.record(*v));
        let (sa, sb) = (a.snapshot().to_sparse(), b.snapshot().to_sparse());
        let decoded = SparseHistogram::decode(&sa.encode()).unwrap();
        assert_eq!(decoded, sa);
        let mut merged = sa.clone();
        merged.merge(&sb);
        let mut dense = a.snapshot();
        dense.merge(&b.snapshot());
        assert_eq!(
            merged.to_dense(),
            dense,
            "sparse and dense merges must agree"
        );
        assert_eq!(merged.count(), 6);
    }

    #[test]
    fn bad_encodings_are_errors_not_panics() {
        for bad in ["", "x;1:2", "5;1", "5;99999:1", "5;4:1,2:1", "5;a:b"] {
            assert!(
                SparseHistogram::decode(bad).is_err(),
                "{bad:?} must be rejected"
            );
        }
    }
}
