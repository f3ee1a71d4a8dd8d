//! The per-socket frame rate: a token bucket of `burst` frames refilled at `per_second`.
//!
//! A browser sends a ping every 30 s, a message now and then, and after a reconnect at most
//! its outbox (100 frames by default) and a resume per reply at once: the burst covers that.
//! A socket that sends faster for longer is flooding; the connection tells it
//! `too_many_frames` and closes with 1008.

use std::time::Instant;

/// How fast one socket may send frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameRate {
    /// Frames per second, sustained.
    pub per_second: u32,
    /// Frames that may arrive at once (the bucket's size).
    pub burst: u32,
}

impl Default for FrameRate {
    fn default() -> Self {
        FrameRate {
            per_second: 50,
            burst: 200,
        }
    }
}

/// One socket's bucket.
#[derive(Debug, Clone)]
pub struct FrameBudget {
    rate: FrameRate,
    /// Frames that may arrive now, in whole frames plus a fraction.
    tokens: f64,
    refilled_at: Instant,
}

impl FrameBudget {
    /// A full bucket at `now`.
    pub fn new(rate: FrameRate, now: Instant) -> FrameBudget {
        FrameBudget {
            rate,
            tokens: f64::from(rate.burst),
            refilled_at: now,
        }
    }

    /// Takes one frame's token at `now`; false when the socket is over its rate.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled_at);
        self.refilled_at = now;
        self.tokens = (self.tokens + elapsed.as_secs_f64() * f64::from(self.rate.per_second))
            .min(f64::from(self.rate.burst));
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const RATE: FrameRate = FrameRate {
        per_second: 10,
        burst: 5,
    };

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let start = Instant::now();
        let mut budget = FrameBudget::new(RATE, start);
        assert!((0..5).all(|_| budget.take(start)));
        assert!(!budget.take(start));
        // 10 per second: one more after 100 ms, not before.
        assert!(!budget.take(start + Duration::from_millis(99)));
        assert!(budget.take(start + Duration::from_millis(100)));
        assert!(!budget.take(start + Duration::from_millis(100)));
    }

    #[test]
    fn a_quiet_socket_refills_to_the_burst_only() {
        let start = Instant::now();
        let mut budget = FrameBudget::new(RATE, start);
        assert!((0..5).all(|_| budget.take(start)));
        let later = start + Duration::from_secs(3600);
        assert!((0..5).all(|_| budget.take(later)));
        assert!(!budget.take(later));
    }

    #[test]
    fn steady_sending_at_the_rate_never_trips() {
        let start = Instant::now();
        let mut budget = FrameBudget::new(RATE, start);
        for i in 0..1_000 {
            assert!(budget.take(start + Duration::from_millis(100 * i)), "{i}");
        }
    }
}
