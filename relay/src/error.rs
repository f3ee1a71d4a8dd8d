//! The stable error codes the relay sends to browsers, and the typed failures behind them.
//!
//! Codes are part of the wire protocol (see `PROTOCOL.md`): clients branch on them, so a code
//! is never renamed. The human sentence sent with a code is fixed here as well, so nothing from
//! an upstream body (which may echo prompts or secrets) ever reaches the browser.

use serde::Serialize;

/// A stable, machine-readable error code carried by every `error` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
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
}

impl ErrorCode {
    /// Every code, in a fixed order (used to render per-code metrics).
    pub const ALL: [ErrorCode; 14] = [
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
        }
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
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a generation failed. Each variant maps to exactly one [`ErrorCode`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerationError {
    /// Upstream answered 400 or 422.
    #[error("upstream refused the request with HTTP {status}")]
    BadRequest {
        /// The HTTP status upstream answered with.
        status: u16,
    },
    /// Upstream answered 401 or 403.
    #[error("upstream rejected the API key with HTTP {status}")]
    Auth {
        /// The HTTP status upstream answered with.
        status: u16,
    },
    /// Upstream answered 402.
    #[error("upstream account is out of balance (HTTP 402)")]
    Quota,
    /// Upstream answered 429 on every attempt.
    #[error("upstream rate limited the request (HTTP 429)")]
    RateLimited,
    /// Upstream answered 5xx, reset the connection, sent an in-stream error or ended early.
    #[error("upstream unavailable: {0}")]
    Unavailable(String),
    /// No data from upstream for longer than the idle timeout, or no first token in time.
    #[error("upstream stalled: {0}")]
    Stalled(&'static str),
    /// The configured model is unknown upstream.
    #[error("upstream does not know the configured model")]
    ModelNotFound,
}

impl GenerationError {
    /// The wire code for this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            GenerationError::BadRequest { .. } => ErrorCode::UpstreamBadRequest,
            GenerationError::Auth { .. } => ErrorCode::UpstreamAuth,
            GenerationError::Quota => ErrorCode::UpstreamQuota,
            GenerationError::RateLimited => ErrorCode::UpstreamRateLimited,
            GenerationError::Unavailable(_) => ErrorCode::UpstreamUnavailable,
            GenerationError::Stalled(_) => ErrorCode::UpstreamStalled,
            GenerationError::ModelNotFound => ErrorCode::ModelNotFound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert!(seen.insert(code.as_str()));
            assert_eq!(ErrorCode::ALL[code.index()], code);
        }
    }

    #[test]
    fn only_transient_failures_are_retryable() {
        assert!(ErrorCode::UpstreamRateLimited.retryable());
        assert!(ErrorCode::Busy.retryable());
        assert!(!ErrorCode::UpstreamAuth.retryable());
        assert!(!ErrorCode::BadFrame.retryable());
        assert!(!ErrorCode::Cancelled.retryable());
    }
}
