//! One generation's kept frames, shared by the publisher that appends them and the watchers
//! that read them: each holds this handle, so a token touches only its own generation's
//! lock, never the store's map of every generation.
//!
//! (Before it, every append, read and backlog check locked the store's one map of every
//! generation and looked this one up by `message_id`: three lookups per token.)
//!
//! A watcher that finds nothing new leaves its task's waker under the same lock, and the
//! next append (or the expiry) wakes it. This replaced a `tokio::sync::watch` channel, whose
//! send, notify and re-subscribe were 6% of the relay's samples at 1,000 streams, and which
//! made a waiting reader look twice (before and after marking the wake-up seen).

use std::mem;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use super::buffer::{Backlog, BufferBounds, FrameBuffer, StoredFrame};

/// What a reader finds after the offset it has applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The next frame.
    Frame(StoredFrame),
    /// Nothing, and nothing will come: the terminal frame is applied already.
    Done,
    /// The frame right after the offset was dropped by the buffer's bounds.
    Evicted,
    /// The frames are no longer kept at all (the generation expired).
    Gone,
}

/// Where a kept generation stands (see [`super::Lookup::Live`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Offset of the oldest frame kept (`last_offset + 1` when none is).
    pub first_kept: u64,
    /// Offset of the newest frame (0 before the first).
    pub last_offset: u64,
    /// Whether its terminal frame is stored.
    pub finished: bool,
}

struct Kept {
    buffer: FrameBuffer,
    /// The readers waiting for the next append, by reader id (one waker each).
    waiting: Vec<(u64, Waker)>,
}

impl Kept {
    /// `Pending` while the frame after `offset` is yet to come.
    fn next_after(&self, offset: u64) -> Poll<Next> {
        Poll::Ready(match self.buffer.next_after(offset) {
            Ok(Some(frame)) => Next::Frame(frame.clone()),
            Ok(None) if self.buffer.finished() => Next::Done,
            Ok(None) => return Poll::Pending,
            Err(_) => Next::Evicted,
        })
    }
}

fn wake_all(waiting: Vec<(u64, Waker)>) {
    for (_, waker) in waiting {
        waker.wake();
    }
}

/// A generation's frames, until it expires.
pub struct GenerationFrames {
    bounds: BufferBounds,
    /// `None` once expired.
    kept: Mutex<Option<Kept>>,
}

impl GenerationFrames {
    /// No frames yet, kept within `bounds`.
    pub fn new(bounds: BufferBounds) -> GenerationFrames {
        GenerationFrames {
            bounds,
            kept: Mutex::new(Some(Kept {
                buffer: FrameBuffer::new(bounds),
                waiting: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Kept>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The bounds of the buffer.
    pub fn bounds(&self) -> BufferBounds {
        self.bounds
    }

    /// Appends the next frame and wakes the waiting readers (nothing once expired).
    pub fn append(&self, frame: StoredFrame) {
        let waiting = match self.lock().as_mut() {
            Some(kept) => {
                kept.buffer.push(frame);
                mem::take(&mut kept.waiting)
            }
            None => return,
        };
        // Woken outside the lock, so a woken reader on the other thread does not wait for it.
        wake_all(waiting);
    }

    /// What reader `reader`, which applied `offset`, gets next; when there is nothing yet,
    /// its task is woken by the next append (or the expiry).
    pub fn poll_next_after(&self, reader: u64, offset: u64, cx: &mut Context<'_>) -> Poll<Next> {
        let mut kept = self.lock();
        let Some(kept) = kept.as_mut() else {
            return Poll::Ready(Next::Gone);
        };
        let next = kept.next_after(offset);
        if next.is_pending() {
            match kept.waiting.iter_mut().find(|(id, _)| *id == reader) {
                Some((_, waker)) => waker.clone_from(cx.waker()),
                None => kept.waiting.push((reader, cx.waker().clone())),
            }
        }
        next
    }

    /// What a reader that applied `offset` would get next, without waiting, for tests.
    #[cfg(test)]
    pub fn look_after(&self, offset: u64) -> Poll<Next> {
        self.lock()
            .as_ref()
            .map_or(Poll::Ready(Next::Gone), |kept| kept.next_after(offset))
    }

    /// Forgets reader `reader`'s waker (it stopped reading).
    pub fn stop_waiting(&self, reader: u64) {
        if let Some(kept) = self.lock().as_mut() {
            kept.waiting.retain(|(id, _)| *id != reader);
        }
    }

    /// How far a reader at `offset` is behind the newest frame.
    pub fn backlog(&self, offset: u64) -> Backlog {
        self.lock()
            .as_ref()
            .map(|kept| kept.buffer.backlog(offset))
            .unwrap_or_default()
    }

    /// Where the generation stands; `None` once expired.
    pub fn progress(&self) -> Option<Progress> {
        self.lock().as_ref().map(|kept| Progress {
            first_kept: kept.buffer.first_kept(),
            last_offset: kept.buffer.last_offset(),
            finished: kept.buffer.finished(),
        })
    }

    /// Bytes of frame text kept right now; `None` once expired.
    pub fn kept_bytes(&self) -> Option<usize> {
        self.lock().as_ref().map(|kept| kept.buffer.kept_bytes())
    }

    /// Drops the frames and wakes the waiting readers (they find them gone); false when they
    /// were dropped already.
    pub fn expire(&self) -> bool {
        let kept = self.lock().take();
        match kept {
            Some(kept) => {
                wake_all(kept.waiting);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use futures_util::task::{waker, ArcWake};

    use super::*;

    /// A waker that counts its wake-ups.
    struct Counter(AtomicUsize);

    impl ArcWake for Counter {
        fn wake_by_ref(counter: &Arc<Self>) {
            counter.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let waker = waker(Arc::clone(&counter));
        (counter, waker)
    }

    fn woken(counter: &Counter) -> usize {
        counter.0.load(Ordering::SeqCst)
    }

    #[test]
    fn reads_wake_ups_and_expiry() {
        let frames = GenerationFrames::new(BufferBounds::default());
        let (count, waker) = counter();
        let mut cx = Context::from_waker(&waker);
        assert_eq!(frames.poll_next_after(1, 0, &mut cx), Poll::Pending);
        // Polling again keeps one waker for the reader, not two.
        assert_eq!(frames.poll_next_after(1, 0, &mut cx), Poll::Pending);
        frames.append(StoredFrame::numbered(1, false));
        assert_eq!(woken(&count), 1);
        frames.append(StoredFrame::numbered(2, true));
        assert_eq!(woken(&count), 1, "woken once per wait");
        assert_eq!(
            frames.poll_next_after(1, 0, &mut cx),
            Poll::Ready(Next::Frame(StoredFrame::numbered(1, false)))
        );
        assert_eq!(
            frames.poll_next_after(1, 1, &mut cx),
            Poll::Ready(Next::Frame(StoredFrame::numbered(2, true)))
        );
        assert_eq!(
            frames.poll_next_after(1, 2, &mut cx),
            Poll::Ready(Next::Done)
        );
        assert_eq!(
            frames.poll_next_after(1, 7, &mut cx),
            Poll::Ready(Next::Done)
        );
        assert_eq!(
            frames.progress(),
            Some(Progress {
                first_kept: 1,
                last_offset: 2,
                finished: true
            })
        );
        assert!(frames.expire());
        assert!(!frames.expire());
        assert_eq!(
            frames.poll_next_after(1, 0, &mut cx),
            Poll::Ready(Next::Gone)
        );
        assert_eq!(frames.progress(), None);
        assert_eq!(frames.kept_bytes(), None);
    }

    #[test]
    fn expiry_wakes_a_waiting_reader_and_a_reader_that_left_is_not_woken() {
        let frames = GenerationFrames::new(BufferBounds::default());
        let (stays, stays_waker) = counter();
        let (leaves, leaves_waker) = counter();
        assert!(frames
            .poll_next_after(1, 0, &mut Context::from_waker(&stays_waker))
            .is_pending());
        assert!(frames
            .poll_next_after(2, 0, &mut Context::from_waker(&leaves_waker))
            .is_pending());
        frames.stop_waiting(2);
        assert!(frames.expire());
        assert_eq!((woken(&stays), woken(&leaves)), (1, 0));
    }

    #[test]
    fn a_reader_behind_the_bounds_is_told_so() {
        let frames = GenerationFrames::new(BufferBounds {
            max_frames: 2,
            max_bytes: 1_000,
        });
        for offset in 1..=4 {
            frames.append(StoredFrame::numbered(offset, false));
        }
        assert_eq!(frames.look_after(1), Poll::Ready(Next::Evicted));
        assert_eq!(
            frames.look_after(2),
            Poll::Ready(Next::Frame(StoredFrame::numbered(3, false)))
        );
        assert_eq!(
            frames.look_after(3),
            Poll::Ready(Next::Frame(StoredFrame::numbered(4, false)))
        );
        assert_eq!(frames.look_after(4), Poll::Pending);
        assert_eq!(frames.backlog(2).frames, 2);
        assert_eq!(frames.progress().map(|p| p.first_kept), Some(3));
    }
}
