//! Keep-alive decisions: when to ping and when a silent socket counts as dead.
//!
//! Works on wall-clock times (`Date.now()`), not on how often a timer fired: background
//! tabs throttle timers to once a minute, and a late tick must still judge correctly.

/// What the adapter should do after a heartbeat tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Beat {
    /// Send `{"type":"ping"}`, then tick again after `next_tick_ms`.
    Ping { next_tick_ms: f64 },
    /// Nothing to do; tick again after `next_tick_ms`.
    Wait { next_tick_ms: f64 },
    /// No frame arrived within the timeout after a ping: close and reconnect.
    Dead,
}

/// Heartbeat bookkeeping for one open socket.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    interval_ms: f64,
    timeout_ms: f64,
    last_alive_at: f64,
    ping_sent_at: Option<f64>,
    frame_seen: bool,
}

impl Heartbeat {
    /// Starts the bookkeeping for a socket that opened at `now`.
    pub fn new(interval_ms: f64, timeout_ms: f64, now: f64) -> Self {
        Heartbeat {
            interval_ms,
            timeout_ms,
            last_alive_at: now,
            ping_sent_at: None,
            frame_seen: false,
        }
    }

    /// When the first tick is due after opening.
    pub fn first_tick_ms(&self) -> f64 {
        self.interval_ms
    }

    /// Any frame counts as life. Cheap on purpose: it runs for every frame.
    pub fn frame_received(&mut self) {
        self.frame_seen = true;
    }

    /// Sends a ping now (the browser went offline) unless one is already out.
    /// Returns whether to send it, and when the next tick is due.
    pub fn probe(&mut self, now: f64) -> Option<f64> {
        self.absorb_frames(now);
        if self.ping_sent_at.is_some() {
            return None;
        }
        self.ping_sent_at = Some(now);
        Some(self.timeout_ms)
    }

    /// Decides what a timer tick at wall-clock time `now` means.
    pub fn tick(&mut self, now: f64) -> Beat {
        self.absorb_frames(now);
        if let Some(sent_at) = self.ping_sent_at {
            let waited = now - sent_at;
            if waited >= self.timeout_ms {
                return Beat::Dead;
            }
            return Beat::Wait {
                next_tick_ms: self.timeout_ms - waited,
            };
        }
        let quiet_for = now - self.last_alive_at;
        if quiet_for >= self.interval_ms {
            self.ping_sent_at = Some(now);
            return Beat::Ping {
                next_tick_ms: self.timeout_ms,
            };
        }
        Beat::Wait {
            next_tick_ms: self.interval_ms - quiet_for,
        }
    }

    /// Frames seen since the last tick mean the socket was alive up to now.
    fn absorb_frames(&mut self, now: f64) {
        if self.frame_seen {
            self.frame_seen = false;
            self.last_alive_at = now;
            self.ping_sent_at = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pings_after_a_quiet_interval_and_dies_without_an_answer() {
        let mut hb = Heartbeat::new(30_000.0, 10_000.0, 0.0);
        assert_eq!(hb.first_tick_ms(), 30_000.0);
        assert_eq!(
            hb.tick(30_000.0),
            Beat::Ping {
                next_tick_ms: 10_000.0
            }
        );
        assert_eq!(
            hb.tick(35_000.0),
            Beat::Wait {
                next_tick_ms: 5_000.0
            }
        );
        assert_eq!(hb.tick(40_000.0), Beat::Dead);
    }

    #[test]
    fn any_frame_after_the_ping_keeps_it_alive() {
        let mut hb = Heartbeat::new(30_000.0, 10_000.0, 0.0);
        assert!(matches!(hb.tick(30_000.0), Beat::Ping { .. }));
        hb.frame_received();
        assert_eq!(
            hb.tick(40_000.0),
            Beat::Wait {
                next_tick_ms: 30_000.0
            }
        );
        assert!(matches!(hb.tick(70_000.0), Beat::Ping { .. }));
    }

    #[test]
    fn traffic_postpones_the_ping() {
        let mut hb = Heartbeat::new(30_000.0, 10_000.0, 0.0);
        hb.frame_received();
        assert_eq!(
            hb.tick(20_000.0),
            Beat::Wait {
                next_tick_ms: 30_000.0
            }
        );
        assert_eq!(
            hb.tick(45_000.0),
            Beat::Wait {
                next_tick_ms: 5_000.0
            }
        );
    }

    #[test]
    fn a_throttled_late_tick_judges_by_wall_clock() {
        let mut hb = Heartbeat::new(1_000.0, 500.0, 0.0);
        assert!(matches!(hb.tick(1_000.0), Beat::Ping { .. }));
        // The tab slept for a minute; no frame came back.
        assert_eq!(hb.tick(61_000.0), Beat::Dead);

        let mut answered = Heartbeat::new(1_000.0, 500.0, 0.0);
        assert!(matches!(answered.tick(1_000.0), Beat::Ping { .. }));
        answered.frame_received();
        assert!(matches!(answered.tick(61_000.0), Beat::Wait { .. }));
    }

    #[test]
    fn probe_sends_one_ping_and_arms_the_timeout() {
        let mut hb = Heartbeat::new(30_000.0, 10_000.0, 0.0);
        assert_eq!(hb.probe(5_000.0), Some(10_000.0));
        assert_eq!(hb.probe(6_000.0), None);
        assert_eq!(hb.tick(15_000.0), Beat::Dead);
    }
}
