//! The typed failures of a generation, and the stable error code each maps to.
//!
//! The codes themselves ([`ErrorCode`]: wire name, retryable flag, fixed human sentence) are
//! part of the wire protocol and live in the `chatwire-protocol` crate; they are re-exported
//! here. Nothing from an upstream body (which may echo prompts or secrets) reaches a browser.

pub use chatwire_protocol::ErrorCode;

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
