//! Percentiles of latency samples.

use serde_json::{json, Value};

/// The value at quantile `q` (0..=1) of sorted samples, nearest-rank.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sorts the samples (ns) and summarises them in microseconds.
pub fn summary(samples: &mut [u64]) -> Value {
    samples.sort_unstable();
    let us = |ns: u64| ns as f64 / 1_000.0;
    json!({
        "count": samples.len(),
        "p50_us": us(quantile(samples, 0.50)),
        "p99_us": us(quantile(samples, 0.99)),
        "max_us": us(samples.last().copied().unwrap_or(0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let s: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&s, 0.5), 50);
        assert_eq!(quantile(&s, 0.99), 99);
        assert_eq!(quantile(&s, 1.0), 100);
        assert_eq!(quantile(&[7], 0.99), 7);
        assert_eq!(quantile(&[], 0.5), 0);
    }
}
