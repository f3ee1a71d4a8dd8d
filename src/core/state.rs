//! The connection lifecycle: which state the manager is in and what a close means.
//!
//! Pure decisions only; the browser adapter (`browser/connection.rs`) carries them out.

use chatwire_protocol::close;

use super::backoff::ReconnectPolicy;
use super::error::ErrorCode;

/// Where the manager stands. JS sees these as the strings from [`ConnectionState::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Created, `connect()` not called yet.
    Idle,
    /// A socket is being opened (or its token fetched).
    Connecting,
    /// The socket is open; frames flow.
    Open,
    /// The connection was lost; a reconnect attempt is scheduled.
    Reconnecting,
    /// Stopped on purpose (`disconnect()`) or refused by the server; no reconnects.
    Closed,
    /// Reconnect attempts ran out; `retry()` or `connect()` starts again.
    Failed,
}

impl ConnectionState {
    /// The name JS code sees in `manager.state` and `onStateChange`.
    pub fn as_str(self) -> &'static str {
        // A table in the order of the variants (the test below names each one), not a
        // `match`: 9 B gzip (README "Size").
        const NAMES: [&str; 6] = [
            "idle",
            "connecting",
            "open",
            "reconnecting",
            "closed",
            "failed",
        ];
        NAMES[self as usize]
    }

    /// True while the manager holds or is getting a connection on its own.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            ConnectionState::Connecting | ConnectionState::Open | ConnectionState::Reconnecting
        )
    }
}

/// What to do after the connection ended without `disconnect()` being called.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AfterLoss {
    /// Wait `delay_ms`, then make reconnect attempt number `attempt` (1-based).
    Reconnect { attempt: u32, delay_ms: f64 },
    /// Attempts ran out: the manager is now `Failed`.
    GiveUp,
    /// The server refused the client: the manager is now `Closed` and reports `code`.
    Refused(ErrorCode),
}

/// The state machine behind `ChatWebSocketManager`.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    state: ConnectionState,
    failed_attempts: u32,
    policy: ReconnectPolicy,
}

impl Lifecycle {
    /// A lifecycle in `Idle` that reconnects as `policy` says.
    pub fn new(policy: ReconnectPolicy) -> Self {
        Lifecycle {
            state: ConnectionState::Idle,
            failed_attempts: 0,
            policy,
        }
    }

    /// The current state.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// `connect()` or `retry()`: start with a fresh attempt count unless already active.
    /// Returns false (and changes nothing) while a connection is active.
    pub fn start(&mut self) -> bool {
        if self.state.is_active() {
            return false;
        }
        self.failed_attempts = 0;
        self.state = ConnectionState::Connecting;
        true
    }

    /// The socket opened: the attempt count resets.
    pub fn opened(&mut self) {
        self.failed_attempts = 0;
        self.state = ConnectionState::Open;
    }

    /// The socket closed (or could not open) without `disconnect()`; `code` is the close code.
    pub fn lost(&mut self, code: u16, random: f64) -> AfterLoss {
        if let Some(error) = refusal(code) {
            self.state = ConnectionState::Closed;
            return AfterLoss::Refused(error);
        }
        if !self.policy.allows(self.failed_attempts) {
            self.state = ConnectionState::Failed;
            return AfterLoss::GiveUp;
        }
        let delay_ms = self.policy.delay_for(self.failed_attempts, random);
        self.failed_attempts += 1;
        self.state = ConnectionState::Reconnecting;
        AfterLoss::Reconnect {
            attempt: self.failed_attempts,
            delay_ms,
        }
    }

    /// The reconnect delay is over (or the network came back): make the attempt now.
    /// Returns false unless a reconnect was pending.
    pub fn reconnect_due(&mut self) -> bool {
        if self.state != ConnectionState::Reconnecting {
            return false;
        }
        self.state = ConnectionState::Connecting;
        true
    }

    /// `disconnect()`: stop for good, whatever the state.
    pub fn stop(&mut self) {
        self.state = ConnectionState::Closed;
    }
}

/// Close codes after which reconnecting would only be refused again (the protocol's
/// [`close::is_refusal`]), and the error each is reported as.
fn refusal(code: u16) -> Option<ErrorCode> {
    if !close::is_refusal(code) {
        return None;
    }
    Some(match code {
        close::POLICY => ErrorCode::PolicyViolation,
        _ => ErrorCode::Unauthorized,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast_policy(max_attempts: u32) -> ReconnectPolicy {
        ReconnectPolicy {
            max_attempts,
            base_delay_ms: 20.0,
            max_delay_ms: 100.0,
            jitter: 0.0,
        }
    }

    #[test]
    fn reconnects_with_growing_delays_then_gives_up() {
        let mut life = Lifecycle::new(fast_policy(3));
        assert!(life.start());
        let mut outcomes = Vec::new();
        for _ in 0..4 {
            let outcome = life.lost(1006, 0.0);
            outcomes.push(outcome);
            if life.reconnect_due() {
                assert_eq!(life.state(), ConnectionState::Connecting);
            }
        }
        assert_eq!(
            outcomes,
            [
                AfterLoss::Reconnect {
                    attempt: 1,
                    delay_ms: 20.0
                },
                AfterLoss::Reconnect {
                    attempt: 2,
                    delay_ms: 40.0
                },
                AfterLoss::Reconnect {
                    attempt: 3,
                    delay_ms: 80.0
                },
                AfterLoss::GiveUp,
            ]
        );
        assert_eq!(life.state(), ConnectionState::Failed);
    }

    #[test]
    fn a_successful_open_resets_the_attempt_count() {
        let mut life = Lifecycle::new(fast_policy(2));
        life.start();
        life.lost(1006, 0.0);
        life.reconnect_due();
        life.lost(1006, 0.0);
        life.reconnect_due();
        life.opened();
        assert_eq!(life.state(), ConnectionState::Open);
        assert_eq!(
            life.lost(1001, 0.0),
            AfterLoss::Reconnect {
                attempt: 1,
                delay_ms: 20.0
            }
        );
    }

    #[test]
    fn auth_refusals_close_for_good() {
        for (code, error) in [
            (4401, ErrorCode::Unauthorized),
            (4403, ErrorCode::Unauthorized),
            (1008, ErrorCode::PolicyViolation),
        ] {
            let mut life = Lifecycle::new(fast_policy(5));
            life.start();
            life.opened();
            assert_eq!(life.lost(code, 0.0), AfterLoss::Refused(error));
            assert_eq!(life.state(), ConnectionState::Closed);
            assert!(!life.reconnect_due());
        }
    }

    #[test]
    fn stop_cancels_a_pending_reconnect() {
        let mut life = Lifecycle::new(fast_policy(5));
        life.start();
        life.lost(1006, 0.0);
        assert_eq!(life.state(), ConnectionState::Reconnecting);
        life.stop();
        assert!(!life.reconnect_due());
        assert_eq!(life.state(), ConnectionState::Closed);
    }

    #[test]
    fn start_is_refused_while_active_and_allowed_after_failure() {
        let mut life = Lifecycle::new(fast_policy(0));
        assert!(life.start());
        assert!(!life.start());
        assert_eq!(life.lost(1006, 0.0), AfterLoss::GiveUp);
        assert_eq!(life.state(), ConnectionState::Failed);
        assert!(life.start());
        assert_eq!(life.state(), ConnectionState::Connecting);
    }

    #[test]
    fn state_names_match_the_typescript_union() {
        let names: Vec<&str> = [
            ConnectionState::Idle,
            ConnectionState::Connecting,
            ConnectionState::Open,
            ConnectionState::Reconnecting,
            ConnectionState::Closed,
            ConnectionState::Failed,
        ]
        .iter()
        .map(|s| s.as_str())
        .collect();
        assert_eq!(
            names,
            [
                "idle",
                "connecting",
                "open",
                "reconnecting",
                "closed",
                "failed"
            ]
        );
    }
}
