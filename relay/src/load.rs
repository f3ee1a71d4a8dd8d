//! Whether the relay is loaded: the share of its runtime workers' time spent busy (not
//! parked), sampled every [`SAMPLE_EVERY`]. Sockets read it before each write: a loaded relay
//! batches frames, one that is not writes a lone frame at once (`connection/batch.rs`).
//!
//! relay-load (`--profile server`, this 2-vCPU machine, the load generator beside the relay,
//! the upstream still read through reqwest) read the share at 0.19–0.25 with 100 streams ×
//! 100 tokens/s, 0.92–0.97 with 1,000 × 100 tokens/s and 0.98–1.0 with 1,000 unpaced
//! streams: far apart, so one threshold with a margin either side tells them apart. What
//! the rule bought is in `connection/batch.rs`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::{Handle, RuntimeMetrics};
use tokio_util::sync::CancellationToken;

/// How often the workers' busy time is read.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(50);
/// Busy share at which the relay counts as loaded.
pub const LOADED_AT: f64 = 0.6;
/// Busy share below which a loaded relay counts as unloaded again. The gap keeps the relay
/// from flipping on every sample near the threshold: writing lone frames at once costs more
/// CPU per token, which raises the share.
pub const UNLOADED_BELOW: f64 = 0.4;

/// The decision from one sample to the next: pure, no clock.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Hysteresis {
    loaded: bool,
}

impl Hysteresis {
    /// Takes the busy share of the last sample (0 to 1 per worker, averaged); says whether
    /// the relay is loaded now.
    pub fn update(&mut self, busy_share: f64) -> bool {
        self.loaded = if self.loaded {
            busy_share >= UNLOADED_BELOW
        } else {
            busy_share >= LOADED_AT
        };
        self.loaded
    }
}

/// The share of `elapsed` the runtime's `workers` spent busy, `busy` being their summed
/// busy time over it.
pub fn busy_share(busy: Duration, elapsed: Duration, workers: usize) -> f64 {
    if elapsed.is_zero() || workers == 0 {
        return 0.0;
    }
    busy.as_secs_f64() / (elapsed.as_secs_f64() * workers as f64)
}

/// The relay's load as the sockets see it; starts unloaded.
#[derive(Debug, Default)]
pub struct Load {
    loaded: AtomicBool,
}

impl Load {
    /// Whether the relay is loaded (see the module docs).
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Relaxed)
    }

    /// Samples the current runtime's workers until `stop` is cancelled. Spawned by
    /// [`crate::run`].
    pub async fn watch(self: Arc<Self>, stop: CancellationToken) {
        let metrics = Handle::current().metrics();
        let mut hysteresis = Hysteresis::default();
        let mut last = (Instant::now(), total_busy(&metrics));
        let mut ticks = tokio::time::interval(SAMPLE_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let now = (Instant::now(), total_busy(&metrics));
            let share = busy_share(
                now.1.saturating_sub(last.1),
                now.0 - last.0,
                metrics.num_workers(),
            );
            let loaded = hysteresis.update(share);
            self.loaded.store(loaded, Ordering::Relaxed);
            last = now;
        }
    }
}

/// The summed busy time of every worker since the runtime started.
fn total_busy(metrics: &RuntimeMetrics) -> Duration {
    (0..metrics.num_workers())
        .map(|worker| metrics.worker_total_busy_duration(worker))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loaded_from_the_threshold_until_below_the_lower_one() {
        let mut load = Hysteresis::default();
        assert!(!load.update(0.25));
        assert!(!load.update(LOADED_AT - 0.01));
        assert!(load.update(LOADED_AT));
        assert!(
            load.update(0.5),
            "between the two thresholds it stays loaded"
        );
        assert!(load.update(UNLOADED_BELOW));
        assert!(!load.update(UNLOADED_BELOW - 0.01));
        assert!(
            !load.update(0.5),
            "between the two thresholds it stays unloaded"
        );
    }

    #[test]
    fn busy_share_averages_over_the_workers() {
        let ms = Duration::from_millis;
        assert_eq!(busy_share(ms(50), ms(50), 2), 0.5);
        assert_eq!(busy_share(ms(100), ms(50), 2), 1.0);
        assert_eq!(busy_share(ms(10), Duration::ZERO, 2), 0.0);
        assert_eq!(busy_share(ms(10), ms(50), 0), 0.0);
    }
}
