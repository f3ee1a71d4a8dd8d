//! Limits that keep one client from taking more than its share of the relay: how fast a
//! socket may send frames (`frame_rate.rs`). Each limit is configured in `config.rs`
//! (`RELAY_…`) and documented in relay/README.md; RELIABILITY.md shows what meets each.

pub mod frame_rate;

pub use frame_rate::{FrameBudget, FrameRate};

/// The configured limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// How fast one socket may send frames; `None`: as fast as it likes.
    pub frame_rate: Option<FrameRate>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            frame_rate: Some(FrameRate::default()),
        }
    }
}
