//! WebSocket close codes the relay sends, and which of them a client must not reconnect after.

/// Normal closure. Sent by the client's `disconnect()`: "I am gone", so the relay stops the
/// socket's generations at once instead of keeping them for a resume.
pub const NORMAL: u16 = 1000;
/// The socket sent nothing for the relay's idle timeout (`RELAY_IDLE_TIMEOUT_MS`) while
/// no reply was streaming to it. The client may reconnect.
pub const GOING_AWAY: u16 = 1001;
/// A text frame that is not valid UTF-8.
pub const INVALID_PAYLOAD: u16 = 1007;
/// Policy violation: an invalid session id, or frames sent faster than the relay's
/// per-socket limit. Reconnecting would be refused again (or flood again).
pub const POLICY: u16 = 1008;
/// A frame larger than the relay accepts (64 KiB). The client must be fixed, not retried.
pub const TOO_LARGE: u16 = 1009;
/// The relay is restarting: reconnect with backoff (and resume what was streaming).
pub const RESTART: u16 = 1012;
/// Missing or wrong token (a browser cannot read an HTTP 401 from a failed upgrade).
pub const UNAUTHORIZED: u16 = 4401;
/// Reserved for "forbidden": the token is valid but may not do this.
pub const FORBIDDEN: u16 = 4403;

/// Whether a socket closed with `code` would only be refused again on reconnect.
pub fn is_refusal(code: u16) -> bool {
    matches!(code, UNAUTHORIZED | FORBIDDEN | POLICY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_auth_and_policy_closes_forbid_reconnecting() {
        for code in [UNAUTHORIZED, FORBIDDEN, POLICY] {
            assert!(is_refusal(code), "{code}");
        }
        for code in [
            NORMAL,
            GOING_AWAY,
            INVALID_PAYLOAD,
            TOO_LARGE,
            RESTART,
            1006,
        ] {
            assert!(!is_refusal(code), "{code}");
        }
    }
}
