//! Jittered exponential backoff for upstream retries ("full jitter": a random delay between
//! zero and `min(max, base * 2^attempt)`), so many clients retrying after the same upstream
//! hiccup do not hammer it in lock-step.

use std::time::Duration;

use crate::ids::random_u64;

/// Backoff between upstream attempts.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The cap of the first retry's delay.
    pub base: Duration,
    /// The largest delay.
    pub max: Duration,
}

impl Backoff {
    /// The upper bound of the delay before retry number `attempt` (0-based).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// A random delay in `0..=ceiling(attempt)`, raised to `at_least` (e.g. a `Retry-After`)
    /// but never above `max`.
    pub fn delay_for(&self, attempt: u32, at_least: Option<Duration>) -> Duration {
        let ceiling = self.ceiling(attempt);
        let nanos = ceiling.as_nanos().min(u64::MAX as u128) as u64;
        let jittered = Duration::from_nanos(if nanos == 0 {
            0
        } else {
            random_u64() % (nanos + 1)
        });
        jittered.max(at_least.unwrap_or_default()).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_with_jitter_and_stay_capped() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_millis(1000),
        };
        assert_eq!(b.ceiling(0), Duration::from_millis(100));
        assert_eq!(b.ceiling(2), Duration::from_millis(400));
        assert_eq!(b.ceiling(10), Duration::from_millis(1000));
        let delays: Vec<_> = (0..50).map(|_| b.delay_for(3, None)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(800)));
        assert!(
            delays.iter().any(|d| *d != delays[0]),
            "no jitter: {delays:?}"
        );
        assert_eq!(
            b.delay_for(0, Some(Duration::from_secs(30))),
            Duration::from_millis(1000)
        );
    }
}
