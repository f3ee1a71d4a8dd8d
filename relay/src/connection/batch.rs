//! When a socket writes the frames its watchers gave it: pure bookkeeping, no I/O, so the
//! rule is unit-tested here.
//!
//! Frames are fed into the WebSocket's write buffer as they come and written with one `send`
//! once nothing else is ready, or once [`MAX_BATCH`] are fed. A generation reads its upstream
//! in its own task (`provider/http1_pool.rs`), so every event one upstream read brought is
//! published before the socket's task runs: the batch fills by itself when the relay falls
//! behind, and a lone token leaves at once.
//!
//! The socket used to yield before a write while the relay was loaded, so its generation
//! could publish more for the batch. That paid while reqwest read the upstream and woke the
//! generation once per chunk; on the in-task reader it only delayed frames. relay-load,
//! `--profile server`, quiet machine, alternating runs (3 December; the floor, relay-floor,
//! added 8–10 ms at 1,000 paced in the same hour):
//!
//! | upstream read by | before each write | 1,000 × 100 tok/s: added p99 | 1,000 unpaced: tokens/s | 100 × 100 tok/s: added p99 |
//! | --- | --- | --- | ---: | --- |
//! | the generation's task | no yield (this) | 26.6–42.7 ms (5 runs) | 361k–456k | 0.32–0.40 ms |
//! | the generation's task | up to four yields when loaded | 60.1–73.0 ms (5 runs, every pair worse) | 394k–452k | 0.35–0.38 ms |
//! | reqwest | up to four yields when loaded | 68.8–92.0 ms (3 runs) | 246k–340k | 0.20–0.33 ms |
//! | reqwest | no yield | 639–730 ms, 92k–93k of 100k delivered (3 runs) | 114k–124k | 0.21–0.32 ms |
//!
//! Relay CPU per token was the same with and without the yield on the in-task reader
//! (2.1–2.4 CPU-s per Mtok unpaced, 10.2–11.2 at 1,000 paced). reqwest still carries
//! completions through a configured proxy (`provider/openai.rs`): such a relay saturates
//! near 1,000 paced streams (last row). Earlier measurements of the yield (self-wake instead
//! of `yield_now`, always yielding, a load threshold) are in this file's history.

/// Most frames written with one `send`; bounded so a flood cannot starve reading the client.
pub const MAX_BATCH: usize = 16;

/// The frames fed since the last write.
#[derive(Debug, Default)]
pub struct Batch {
    fed: usize,
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

    /// The batch was written.
    pub fn written(&mut self) {
        *self = Batch::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_full_at_the_limit_and_empty_once_written() {
        let mut batch = Batch::default();
        assert!(!batch.is_pending());
        batch.feed();
        assert!(batch.is_pending() && !batch.is_full());
        for _ in 1..MAX_BATCH {
            batch.feed();
        }
        assert!(batch.is_full());
        batch.written();
        assert!(!batch.is_full() && !batch.is_pending());
    }
}
