//! The stable error codes of `error` frames: the string clients branch on, whether retrying
//! may help, and the fixed human sentence sent with each.
//!
//! Codes are part of the wire protocol: a code is never renamed. The sentence is fixed here so
//! nothing from an upstream body (which may echo prompts or secrets) ever reaches a browser.

use core::fmt;

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error code carried by every `error` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The frame was not valid JSON of the shape `{type, data}` or its data was malformed.
    BadFrame,
    /// The frame's `type` is not one the relay understands.
    UnknownType,
    /// The frame or the chat message is larger than the relay accepts.
    MessageTooLarge,
    /// The relay is at its limit of concurrent generations; try again shortly.
    RateLimited,
    /// This conversation already has a generation in flight.
    Busy,
    /// The upstream API rejected the relay's API key.
    UpstreamAuth,
    /// The upstream account has no balance or quota left.
    UpstreamQuota,
    /// The upstream API rate-limited the relay (after the relay's own retries).
    UpstreamRateLimited,
    /// The upstream API failed, reset the connection or ended the stream early.
    UpstreamUnavailable,
    /// The upstream API stopped sending data in the middle of a reply, or never started.
    UpstreamStalled,
    /// The upstream API refused the request as malformed.
    UpstreamBadRequest,
    /// The configured model does not exist upstream.
    ModelNotFound,
    /// The relay is shutting down; reconnect in a moment.
    ServerRestarting,
    /// The generation was cancelled by the client.
    Cancelled,
    /// A `resume` named a generation the relay knew, but its frames are no longer kept.
    StreamExpired,
    /// The socket sent frames faster than the relay's per-socket limit; it is closed (1008).
    TooManyFrames,
}

impl ErrorCode {
    /// Every code, in a fixed order (used to render per-code metrics).
    pub const ALL: [ErrorCode; 16] = [
        ErrorCode::BadFrame,
        ErrorCode::UnknownType,
        ErrorCode::MessageTooLarge,
        ErrorCode::RateLimited,
        ErrorCode::Busy,
        ErrorCode::UpstreamAuth,
        ErrorCode::UpstreamQuota,
        ErrorCode::UpstreamRateLimited,
        ErrorCode::UpstreamUnavailable,
        ErrorCode::UpstreamStalled,
        ErrorCode::UpstreamBadRequest,
        ErrorCode::ModelNotFound,
        ErrorCode::ServerRestarting,
        ErrorCode::Cancelled,
        ErrorCode::StreamExpired,
        ErrorCode::TooManyFrames,
    ];

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::MessageTooLarge => "message_too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Busy => "busy",
            ErrorCode::UpstreamAuth => "upstream_auth",
            ErrorCode::UpstreamQuota => "upstream_quota",
            ErrorCode::UpstreamRateLimited => "upstream_rate_limited",
            ErrorCode::UpstreamUnavailable => "upstream_unavailable",
            ErrorCode::UpstreamStalled => "upstream_stalled",
            ErrorCode::UpstreamBadRequest => "upstream_bad_request",
            ErrorCode::ModelNotFound => "model_not_found",
            ErrorCode::ServerRestarting => "server_restarting",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::StreamExpired => "stream_expired",
            ErrorCode::TooManyFrames => "too_many_frames",
        }
    }

    /// The code for a wire string, if it is one.
    pub fn from_wire(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// Position in [`ErrorCode::ALL`].
    pub fn index(self) -> usize {
        ErrorCode::ALL
            .iter()
            .position(|c| *c == self)
            .unwrap_or_default()
    }

    /// Whether sending the same request again later may succeed.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::RateLimited
                | ErrorCode::Busy
                | ErrorCode::UpstreamRateLimited
                | ErrorCode::UpstreamUnavailable
                | ErrorCode::UpstreamStalled
                | ErrorCode::ServerRestarting
        )
    }

    /// The human sentence sent with the code. Fixed text: upstream bodies are never forwarded.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "The frame is not valid chatwire JSON ({type, data}).",
            ErrorCode::UnknownType => "The frame type is not known to this relay.",
            ErrorCode::MessageTooLarge => "The message is larger than this relay accepts.",
            ErrorCode::RateLimited => {
                "The relay is at its limit of concurrent replies; try again shortly."
            }
            ErrorCode::Busy => {
                "This conversation is still answering; cancel it or wait for it to finish."
            }
            ErrorCode::UpstreamAuth => "The model provider rejected the relay's API key.",
            ErrorCode::UpstreamQuota => "The model provider account is out of balance or quota.",
            ErrorCode::UpstreamRateLimited => {
                "The model provider is rate limiting requests; try again shortly."
            }
            ErrorCode::UpstreamUnavailable => "The model provider failed or ended the reply early.",
            ErrorCode::UpstreamStalled => "The model provider stopped sending the reply.",
            ErrorCode::UpstreamBadRequest => "The model provider refused the request.",
            ErrorCode::ModelNotFound => {
                "The configured model does not exist at the model provider."
            }
            ErrorCode::ServerRestarting => "The relay is restarting; reconnect in a moment.",
            ErrorCode::Cancelled => "The reply was cancelled.",
            ErrorCode::StreamExpired => {
                "The reply can no longer be resumed: the relay no longer keeps its frames."
            }
            ErrorCode::TooManyFrames => {
                "This socket sent frames faster than the relay accepts; it is being closed."
            }
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_found_by_their_wire_name() {
        for (i, code) in ErrorCode::ALL.into_iter().enumerate() {
            assert_eq!(code.index(), i);
            assert_eq!(ErrorCode::from_wire(code.as_str()), Some(code));
            assert!(ErrorCode::ALL[..i]
                .iter()
                .all(|c| c.as_str() != code.as_str()));
        }
        assert_eq!(ErrorCode::from_wire("Busy"), None);
    }

    #[test]
    fn only_transient_failures_are_retryable() {
        assert!(ErrorCode::UpstreamRateLimited.retryable());
        assert!(ErrorCode::Busy.retryable());
        assert!(ErrorCode::ServerRestarting.retryable());
        assert!(!ErrorCode::UpstreamAuth.retryable());
        assert!(!ErrorCode::BadFrame.retryable());
        assert!(!ErrorCode::Cancelled.retryable());
        assert!(!ErrorCode::StreamExpired.retryable());
        assert!(!ErrorCode::TooManyFrames.retryable());
    }
}
