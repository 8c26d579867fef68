//! Latency summaries (nearest-rank percentiles) and `key=value` printing.

use std::time::Duration;

/// p50/p99/mean/max of a set of samples, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    pub mean_us: f64,
    pub max_us: f64,
}

/// Summarises samples; `None` when there are none.
pub fn summarize(samples: &mut [Duration]) -> Option<Summary> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_unstable();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let rank = |p: f64| {
        let r = ((p / 100.0) * samples.len() as f64).ceil() as usize;
        samples[r.clamp(1, samples.len()) - 1]
    };
    let total: Duration = samples.iter().sum();
    Some(Summary {
        count: samples.len(),
        p50_us: us(rank(50.0)),
        p99_us: us(rank(99.0)),
        mean_us: us(total) / samples.len() as f64,
        max_us: us(samples[samples.len() - 1]),
    })
}

/// Prints `prefix_p50_us=… prefix_p99_us=…` etc., one `key=value` per line.
pub fn print_summary(prefix: &str, s: &Summary) {
    println!("{prefix}_count={}", s.count);
    println!("{prefix}_p50_us={:.1}", s.p50_us);
    println!("{prefix}_p99_us={:.1}", s.p99_us);
    println!("{prefix}_mean_us={:.1}", s.mean_us);
    println!("{prefix}_max_us={:.1}", s.max_us);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<Duration> = (1..=100).rev().map(Duration::from_micros).collect();
        let s = summarize(&mut v).unwrap();
        assert_eq!(s.count, 100);
        assert!((s.p50_us - 50.0).abs() < 1e-6, "p50 of 1..=100 µs is 50 µs");
        assert!((s.p99_us - 99.0).abs() < 1e-6);
        assert!((s.max_us - 100.0).abs() < 1e-6);
        assert!((s.mean_us - 50.5).abs() < 1e-6);
        let mut one = vec![Duration::from_micros(7)];
        assert!((summarize(&mut one).unwrap().p99_us - 7.0).abs() < 1e-6);
        assert!(summarize(&mut []).is_none());
    }
}
