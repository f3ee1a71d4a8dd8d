//! How many sockets and manager closures exist right now, in every manager: tests use the
//! counts to show that connect/disconnect cycles and freed managers release everything.
//!
//! Counted only with the `live-counts` feature (on by default). The npm package is built
//! without it: nothing in JS could read the counts there.

#[cfg(feature = "live-counts")]
use core::sync::atomic::{AtomicUsize, Ordering};

/// One count of live objects.
pub struct LiveCount {
    #[cfg(feature = "live-counts")]
    count: AtomicUsize,
}

impl LiveCount {
    const fn new() -> LiveCount {
        LiveCount {
            #[cfg(feature = "live-counts")]
            count: AtomicUsize::new(0),
        }
    }

    /// One more is alive.
    pub fn up(&self) {
        #[cfg(feature = "live-counts")]
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// One fewer is alive.
    pub fn down(&self) {
        #[cfg(feature = "live-counts")]
        self.count.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Open (or opening) sockets with their listeners.
pub static SOCKETS: LiveCount = LiveCount::new();

/// Managers' closures (one per manager until it is freed).
pub static LISTENERS: LiveCount = LiveCount::new();

/// How many sockets exist right now, in every manager.
#[cfg(feature = "live-counts")]
pub fn live_sockets() -> usize {
    SOCKETS.count.load(Ordering::Relaxed)
}

/// How many managers' closures exist right now.
#[cfg(feature = "live-counts")]
pub fn live_listeners() -> usize {
    LISTENERS.count.load(Ordering::Relaxed)
}
