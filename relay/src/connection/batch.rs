//! When a socket writes the frames its watchers gave it: pure bookkeeping, no I/O, so the
//! rule is unit-tested here.
//!
//! Frames are fed into the WebSocket's write buffer as they come and written with one `send`
//! per batch. When nothing else is ready and the relay is loaded (`load.rs`: its workers
//! busy 60% of the time or more) the socket first yields: its generations (and the other
//! sockets' tasks) run, and may publish more frames for this batch. It keeps yielding while
//! a yield brought more frames, at most [`MAX_YIELDS`] times, and writes at once when a yield
//! brought none, so a lone token waits one yield. A relay that is not loaded writes at once.
//! relay-load, 1,000 unpaced streams, server profile without LTO, runs alternating at
//! `chrt -r 10` on a machine busy with other builds (load average 8–12); the first row is
//! from two earlier runs:
//!
//! | before each write | tokens/s | relay CPU-s per Mtok | `sendto` per token |
//! | --- | ---: | ---: | ---: |
//! | no yield | 79k–82k | 17.3–17.6 | 0.98–1.06 |
//! | one yield | 137k–164k | 8.6–10.5 | 0.33–0.40 |
//! | four yields, always | 175k–221k | 6.7–8.4 | 0.05–0.12 |
//! | up to four, while they bring frames (this) | 182k–222k | 6.6–8.2 | 0.004–0.09 |
//!
//! At light load the yield costs latency: `yield_now` defers the task until its worker has
//! nothing else to run and has polled for I/O once. Under load it is what keeps the relay up,
//! paced or not. relay-load, `--profile server`, quiet machine, two runs each alternating with
//! this rule (3 December):
//!
//! | before each write | 100 × 100 tok/s: relayed p50, added p99 | 1,000 × 100 tok/s: delivered, added p99 | 1,000 unpaced: tokens/s | relay CPU-s per Mtok (100 / 1,000 / unpaced) |
//! | --- | --- | --- | ---: | --- |
//! | up to four yields, while they bring frames (this) | 0.28–0.37 ms, 0.64–1.24 ms | 89k–95k, 125–359 ms | 210k–296k | 27–35 / 10.4–11.2 / 4.0–5.7 |
//! | no yield (`MAX_YIELDS = 0`) | 0.19–0.23 ms, 0.57–0.67 ms | 54k–55k, 1.7–1.8 s | 62k–74k | 26–31 / 20.5 / 16–20 |
//! | no yield when the last write was a lone frame too | 0.17–0.20 ms, 0.51–0.66 ms | 77k–82k, 0.75–0.91 s | 115k–124k | 25–27 / 13–14 / 9.4–10.4 |
//!
//! On this quiet machine the yield matters at 1,000 paced streams too (earlier runs, on a
//! machine busy with builds, saw no difference there): a socket that waits its turn finds
//! more of its generation's frames published and writes them with one `send`. What the yield
//! costs at light load (about 0.1 ms at p50) is not won back by writing lone frames at once:
//! that saturates the relay at 1,000 streams.
//!
//! Two more rules, measured later that day on a noisier machine (relay-floor's own added p99
//! at 100 streams 0.15–3.4 ms), alternating with the one above:
//! - The task waking itself, to the back of its worker's run queue without waiting for the
//!   I/O poll, instead of `yield_now` (8 runs each): at 100 streams added p99 1.12 ms
//!   (median) against 1.30, at 1,000 paced 344 against 295 ms, unpaced 189k against 222k
//!   tokens/s. No difference shown; not kept.
//! - No yield while the relay is not loaded (`load.rs`), the rule now. With reqwest reading
//!   the upstream (12 runs each) it only moved the 100-stream relayed p50, to 0.27–0.35 ms
//!   from 0.30–0.60. Once the generation read its own upstream connection
//!   (`provider/http1_pool.rs`), the yield was most of what the relay added at light load:
//!   100 × 100 tokens/s added p99 0.63–2.72 ms against 0.96–10.8 ms (five runs each, every
//!   pair better; p50 0.23–0.34 against 0.33–0.82 ms), while 1,000 paced (125–165 against
//!   127–160 ms) and unpaced (402k–449k against 364k–460k tokens/s) stayed where they were.

/// Most frames written with one `send`; bounded so a flood cannot starve reading the client.
pub const MAX_BATCH: usize = 16;
/// Most yields before a write.
pub const MAX_YIELDS: u8 = 4;

/// What the socket does when nothing else is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Let the other tasks run, then look again.
    Yield,
    /// Write the batch.
    Write,
}

/// The frames fed since the last write.
#[derive(Debug, Default)]
pub struct Batch {
    fed: usize,
    yields: u8,
    /// Frames fed when the socket last yielded.
    fed_at_yield: usize,
}

impl Batch {
    /// One more frame was fed.
    pub fn feed(&mut self) {
        self.fed += 1;
    }

    /// Whether the batch takes no more frames.
    pub fn is_full(&self) -> bool {
        self.fed >= MAX_BATCH
    }

    /// Whether frames wait to be written.
    pub fn is_pending(&self) -> bool {
        self.fed > 0
    }

    /// Nothing else is ready: yield, or write. A relay that is not `loaded` (`load.rs`)
    /// writes at once.
    pub fn when_idle(&mut self, loaded: bool) -> Step {
        let last_yield_brought_nothing = self.yields > 0 && self.fed == self.fed_at_yield;
        if !loaded || self.is_full() || self.yields >= MAX_YIELDS || last_yield_brought_nothing {
            return Step::Write;
        }
        self.yields += 1;
        self.fed_at_yield = self.fed;
        Step::Yield
    }

    /// The batch was written.
    pub fn written(&mut self) {
        *self = Batch::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOADED: bool = true;

    #[test]
    fn an_unloaded_relay_writes_at_once() {
        let mut batch = fed(1);
        assert_eq!(batch.when_idle(false), Step::Write);
    }

    fn fed(frames: usize) -> Batch {
        let mut batch = Batch::default();
        for _ in 0..frames {
            batch.feed();
        }
        batch
    }

    #[test]
    fn a_lone_frame_waits_one_yield() {
        let mut batch = fed(1);
        assert_eq!(batch.when_idle(LOADED), Step::Yield);
        assert_eq!(batch.when_idle(LOADED), Step::Write);
        batch.written();
        assert!(!batch.is_pending());
    }

    #[test]
    fn yields_go_on_while_they_bring_frames_up_to_the_limit() {
        let mut batch = fed(1);
        for _ in 0..MAX_YIELDS {
            assert_eq!(batch.when_idle(LOADED), Step::Yield);
            batch.feed();
        }
        assert_eq!(batch.when_idle(LOADED), Step::Write);
    }

    #[test]
    fn a_full_batch_is_written_at_once() {
        let mut batch = fed(MAX_BATCH);
        assert!(batch.is_full());
        assert_eq!(batch.when_idle(LOADED), Step::Write);
        batch.written();
        assert!(!batch.is_full() && !batch.is_pending());
    }
}
