//! Limits that keep one client (or one address) from taking more than its share of the
//! relay: how fast a socket may send frames (`frame_rate.rs`), how many connections an
//! address may hold (`per_ip.rs`), how long a handshake may take and how long a write may
//! wait for a peer that reads nothing (`serve.rs`, `guarded.rs`), and how long a socket may
//! stay silent (`idle.rs`). Each is configured in `config.rs` (`RELAY_…`) and documented in
//! relay/README.md; RELIABILITY.md shows what meets each.

pub mod frame_rate;
pub mod guarded;
pub mod idle;
pub mod per_ip;
pub mod serve;

use std::time::Duration;

pub use frame_rate::{FrameBudget, FrameRate};
pub use idle::IdleClock;

/// The configured limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// How fast one socket may send frames; `None`: as fast as it likes.
    pub frame_rate: Option<FrameRate>,
    /// Open TCP connections per client address (IPv6: per /64); `None`: no cap.
    pub max_connections_per_ip: Option<usize>,
    /// Longest wait for a complete request head (the WebSocket handshake).
    pub handshake_timeout: Duration,
    /// Longest a socket may send nothing while no reply streams to it; `None`: forever.
    pub idle_timeout: Option<Duration>,
    /// Longest a write may wait for a peer that reads nothing before the connection drops.
    pub write_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            frame_rate: Some(FrameRate::default()),
            max_connections_per_ip: Some(256),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(120)),
            write_timeout: Duration::from_secs(10),
        }
    }
}
