//! An accepted connection under the limits: it holds its place in the per-address count
//! (`per_ip.rs`) until it closes, and it gives up on a peer that stopped reading. A write
//! that makes no progress for `RELAY_WRITE_TIMEOUT_MS` (the kernel's buffers are full and
//! the peer drains nothing) fails with `TimedOut`, which ends the WebSocket or the HTTP
//! connection: its watchers detach, so the generations it watched go on for their other
//! watchers instead of waiting for this one.
//!
//! A slow reader that still drains is not stalled: every write that goes through restarts
//! the clock. Writing code needs no timeout of its own for this.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::per_ip::IpSlot;

/// A connection (`T`, a TCP stream) with its slot and its write-stall clock.
#[derive(Debug)]
pub struct Guarded<T> {
    io: T,
    write_timeout: Duration,
    /// The deadline of the write that is waiting now; allocated on the first wait only.
    stall: Option<Pin<Box<Sleep>>>,
    waiting: bool,
    _slot: Option<IpSlot>,
}

impl<T> Guarded<T> {
    /// Wraps `io`; `slot` (if any) is freed when the connection is dropped.
    pub fn new(io: T, write_timeout: Duration, slot: Option<IpSlot>) -> Guarded<T> {
        Guarded {
            io,
            write_timeout,
            stall: None,
            waiting: false,
            _slot: slot,
        }
    }

    /// Passes a write's result through, failing it once it has waited the write timeout.
    fn progress<R>(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        if poll.is_ready() {
            self.waiting = false;
            return poll;
        }
        let deadline = Instant::now() + self.write_timeout;
        let stall = match &mut self.stall {
            Some(stall) => {
                if !self.waiting {
                    stall.as_mut().reset(deadline);
                }
                stall
            }
            None => self
                .stall
                .insert(Box::pin(tokio::time::sleep_until(deadline))),
        };
        self.waiting = true;
        match stall.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.waiting = false;
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the peer read nothing for the write timeout",
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write(cx, buf);
        this.progress(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.progress(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_flush(cx);
        this.progress(cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_shutdown(cx);
        this.progress(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_reads_nothing_fails_the_write_after_the_timeout() {
        let (near, mut far) = tokio::io::duplex(1024);
        let mut guarded = Guarded::new(near, Duration::from_secs(5), None);
        let started = Instant::now();
        let error = guarded.write_all(&[0; 4096]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        // What fitted was written.
        let mut got = vec![0; 1024];
        far.read_exact(&mut got).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_that_drains_is_not_stalled() {
        let (near, mut far) = tokio::io::duplex(1024);
        let mut guarded = Guarded::new(near, Duration::from_secs(5), None);
        let reader = tokio::spawn(async move {
            let mut buf = [0; 512];
            let mut total = 0;
            while total < 8192 {
                tokio::time::sleep(Duration::from_secs(4)).await;
                total += far.read(&mut buf).await.unwrap();
            }
            total
        });
        // 8 KiB through a 1 KiB pipe read 512 bytes every 4 s: 64 s, no wait over 5 s.
        guarded.write_all(&[0; 8192]).await.unwrap();
        assert_eq!(reader.await.unwrap(), 8192);
    }
}
