//! The idle clock of a socket (`RELAY_IDLE_TIMEOUT_MS`): it runs out when the client has
//! sent nothing for the timeout. The connection stops it while a reply streams to the socket
//! and restarts it when the reply ends, so only a socket that neither talks nor listens is
//! idle. The chatwire client pings every 30 s (once a minute at most in a background tab,
//! whose timers the browser throttles), so the default of 2 minutes never closes it.
//!
//! Hearing from the client only records the time; the timer itself is reset when it fires
//! early, so a busy socket pays no timer work per frame. The upstream's idle timeout
//! (`provider/openai.rs`) uses the same clock for the same reason: one record per chunk
//! instead of a timer-wheel update per token.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// An idle clock: runs out when nothing was heard for its timeout.
#[derive(Debug)]
pub struct IdleClock {
    timeout: Duration,
    heard_at: Instant,
    timer: Pin<Box<Sleep>>,
}

impl IdleClock {
    /// A clock started at `now`.
    pub fn new(timeout: Duration, now: Instant) -> IdleClock {
        IdleClock {
            timeout,
            heard_at: now,
            timer: Box::pin(tokio::time::sleep_until(now + timeout)),
        }
    }

    /// Something was heard (the client sent a frame, a reply ended, a chunk came) at `now`.
    pub fn restart(&mut self, now: Instant) {
        self.heard_at = now;
    }

    /// The timeout it runs out after.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Resolves once nothing was heard for the timeout. Cancel-safe: dropping it keeps the
    /// clock as it was.
    pub async fn expired(&mut self) {
        std::future::poll_fn(|cx| self.poll_expired(cx)).await;
    }

    /// [`IdleClock::expired`] for a caller that polls (a `Stream`).
    pub fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            ready!(self.timer.as_mut().poll(cx));
            let due = self.heard_at + self.timeout;
            if due <= Instant::now() {
                return Poll::Ready(());
            }
            self.timer.as_mut().reset(due);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn runs_out_a_timeout_after_the_last_thing_heard() {
        let start = Instant::now();
        let mut clock = IdleClock::new(Duration::from_secs(10), start);
        tokio::time::sleep(Duration::from_secs(6)).await;
        clock.restart(Instant::now());
        // Dropped before it ran out: nothing lost.
        let early = tokio::time::timeout(Duration::from_secs(1), clock.expired()).await;
        assert!(early.is_err());
        clock.expired().await;
        assert_eq!(start.elapsed(), Duration::from_secs(16));
    }
}
