//! Client-side error codes: the stable strings JS branches on in `onError` and rejections.
//!
//! These are the errors the manager reports itself. Codes the relay sends in `error` frames
//! are the protocol crate's (`chatwire_protocol::ErrorCode`); `bad_frame` is shared.

use chatwire_protocol::ErrorCode as WireCode;

/// An error the manager reports itself (as opposed to `error` frames the server sends).
///
/// Each variant has a stable [`code`](ErrorCode::code) that appears as `data.code` in the
/// `onError` frame, and a human sentence in `data.message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A frame from the server was not JSON or had no string `type`.
    BadFrame,
    /// `sendMessage` while not open, with the outbox already at `outboxLimit`.
    OutboxFull,
    /// All reconnect attempts failed; the manager is `failed`.
    ReconnectFailed,
    /// The server closed with 4401/4403: the token was refused.
    Unauthorized,
    /// The server closed with 1008 (policy violation).
    PolicyViolation,
    /// The `url` option (or the URL built from it) is not a valid WebSocket URL.
    InvalidUrl,
    /// The `authToken` function threw, rejected, or returned something other than a string.
    TokenFailed,
    /// `disconnect()` was called while `connect()` was still pending.
    Disconnected,
    /// A reply was in flight when the connection dropped, and the relay could not resume it
    /// (it never knew it, or no longer does). The error carries what was received.
    StreamLost,
}

impl ErrorCode {
    /// The stable code string.
    pub fn code(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => WireCode::BadFrame.as_str(),
            ErrorCode::OutboxFull => "outbox_full",
            ErrorCode::ReconnectFailed => "reconnect_failed",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::PolicyViolation => "policy_violation",
            ErrorCode::InvalidUrl => "invalid_url",
            ErrorCode::TokenFailed => "token_failed",
            ErrorCode::Disconnected => "disconnected",
            ErrorCode::StreamLost => "stream_lost",
        }
    }

    /// A one-sentence explanation for people reading logs or an error banner.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "chatwire: a frame is not a JSON object with a string `type`",
            ErrorCode::OutboxFull => "chatwire: the outbox is full; the frame was not queued",
            ErrorCode::ReconnectFailed => "chatwire: could not reconnect; giving up until retry()",
            ErrorCode::Unauthorized => "chatwire: the server refused the auth token",
            ErrorCode::PolicyViolation => "chatwire: closed by the server for a policy violation",
            ErrorCode::InvalidUrl => "chatwire: invalid WebSocket URL",
            ErrorCode::TokenFailed => "chatwire: authToken threw, rejected or gave no string",
            ErrorCode::Disconnected => "chatwire: disconnect() before the connection opened",
            ErrorCode::StreamLost => {
                "chatwire: the connection dropped and the reply could not be resumed"
            }
        }
    }

    /// Whether trying again later may succeed (mirrors the relay's `retryable` flag).
    pub fn retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::ReconnectFailed | ErrorCode::OutboxFull | ErrorCode::TokenFailed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_and_unique() {
        let all = [
            ErrorCode::BadFrame,
            ErrorCode::OutboxFull,
            ErrorCode::ReconnectFailed,
            ErrorCode::Unauthorized,
            ErrorCode::PolicyViolation,
            ErrorCode::InvalidUrl,
            ErrorCode::TokenFailed,
            ErrorCode::Disconnected,
            ErrorCode::StreamLost,
        ];
        let mut codes: Vec<&str> = all.iter().map(|e| e.code()).collect();
        assert!(codes
            .iter()
            .all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().all(|e| e.message().starts_with("chatwire: ")));
    }
}
