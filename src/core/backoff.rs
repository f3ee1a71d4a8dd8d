//! The reconnect schedule: exponential backoff with a cap and optional jitter.

/// How long to wait before each reconnect attempt, and how many attempts to make.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReconnectPolicy {
    /// Reconnect attempts after an unexpected close before giving up.
    pub max_attempts: u32,
    /// Delay before the first attempt; doubled for each one after it.
    pub base_delay_ms: f64,
    /// Upper bound for any single delay.
    pub max_delay_ms: f64,
    /// Fraction (0..=1) of each delay that is randomised, to spread reconnect storms.
    pub jitter: f64,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            max_attempts: 5,
            base_delay_ms: 1000.0,
            max_delay_ms: 30_000.0,
            jitter: 0.0,
        }
    }
}

impl ReconnectPolicy {
    /// The delay before reconnect attempt `attempt` (0 for the first one).
    ///
    /// `random` is a value in `0..1` (from `Math.random()` in the browser); with `jitter`
    /// `j` the delay is drawn from `[d * (1 - j), d]`, so jitter never makes a client
    /// retry later than the plain schedule says.
    pub fn delay_for(&self, attempt: u32, random: f64) -> f64 {
        let mut capped = self.base_delay_ms.min(self.max_delay_ms);
        for _ in 0..attempt {
            if capped >= self.max_delay_ms {
                break;
            }
            capped = (capped * 2.0).min(self.max_delay_ms);
        }
        capped * (1.0 - self.jitter * random.clamp(0.0, 1.0))
    }

    /// Whether another attempt is allowed after `attempts_made` failed ones.
    pub fn allows(&self, attempts_made: u32) -> bool {
        attempts_made < self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_is_1_2_4_8_16_seconds() {
        let policy = ReconnectPolicy::default();
        let delays: Vec<f64> = (0..5).map(|n| policy.delay_for(n, 0.5)).collect();
        assert_eq!(delays, [1000.0, 2000.0, 4000.0, 8000.0, 16000.0]);
    }

    #[test]
    fn delays_are_capped() {
        let policy = ReconnectPolicy::default();
        assert_eq!(policy.delay_for(5, 0.0), 30_000.0);
        assert_eq!(policy.delay_for(u32::MAX, 0.0), 30_000.0);
    }

    #[test]
    fn jitter_only_shortens_within_its_fraction() {
        let policy = ReconnectPolicy {
            jitter: 0.5,
            ..ReconnectPolicy::default()
        };
        assert_eq!(policy.delay_for(1, 0.0), 2000.0);
        assert_eq!(policy.delay_for(1, 1.0), 1000.0);
        assert_eq!(policy.delay_for(1, 0.5), 1500.0);
        // Out-of-range randomness is clamped rather than producing negative delays.
        assert_eq!(policy.delay_for(1, 7.0), 1000.0);
    }

    #[test]
    fn attempts_are_bounded() {
        let policy = ReconnectPolicy::default();
        assert!(policy.allows(0));
        assert!(policy.allows(4));
        assert!(!policy.allows(5));
        let never = ReconnectPolicy {
            max_attempts: 0,
            ..policy
        };
        assert!(!never.allows(0));
    }
}
