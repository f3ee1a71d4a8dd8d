//! One generation's kept frames, shared by the publisher that appends them and the sockets
//! that read them: each holds this handle, so a token touches only its own generation's
//! lock, never the store's map of every generation.
//!
//! (Before it, every append, read and backlog check locked the store's one map of every
//! generation and looked this one up by `message_id`: three lookups per token.)
//!
//! The readers live under the same lock: the offset each has been given (so the publisher
//! waits for the slowest instead of overrunning it, see [`GenerationFrames::poll_room`]) and,
//! while one waits for the next frame, its task's waker, which the next append takes and
//! wakes. A token therefore takes this lock once to publish and once per reader to read.
//! (Before, a `tokio::sync::watch` channel woke the readers and a second lock, with a
//! `Notify`, kept their offsets: the channel's send and notify alone were 6% of the relay's
//! samples at 1,000 streams, and a waiting reader looked twice, before and after marking the
//! wake-up seen.)

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::buffer::{BufferBounds, FrameBuffer, StoredFrame};

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

/// A socket reading the generation.
struct Reader {
    id: u64,
    /// The offset of the last frame it was given.
    offset: u64,
    /// Its task's waker while it waits for the next frame.
    waiting: Option<Waker>,
}

struct State {
    /// `None` once expired.
    kept: Option<FrameBuffer>,
    readers: Vec<Reader>,
    next_reader: u64,
    /// The publisher's waker while it waits for room.
    writer: Option<Waker>,
}

/// Wakers taken under the lock, woken after it is released (so a task woken on the other
/// thread does not find the lock still held). One reader is the usual case: it needs no
/// allocation.
#[derive(Default)]
struct ToWake {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl ToWake {
    fn add(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        match self.first {
            None => self.first = Some(waker),
            Some(_) => self.rest.push(waker),
        }
    }

    fn readers(state: &mut State) -> ToWake {
        let mut to_wake = ToWake::default();
        for reader in &mut state.readers {
            to_wake.add(reader.waiting.take());
        }
        to_wake
    }

    fn wake(self) {
        self.first
            .into_iter()
            .chain(self.rest)
            .for_each(Waker::wake);
    }
}

/// Stores `cx`'s waker in `slot` (cloned only when it changed).
fn wait_in(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(waker) => waker.clone_from(cx.waker()),
        None => *slot = Some(cx.waker().clone()),
    }
}

/// A generation's frames, until it expires, and who reads them.
pub struct GenerationFrames {
    state: Mutex<State>,
}

impl GenerationFrames {
    /// No frames yet, kept within `bounds`, nobody reading.
    pub fn new(bounds: BufferBounds) -> GenerationFrames {
        GenerationFrames {
            state: Mutex::new(State {
                kept: Some(FrameBuffer::new(bounds)),
                readers: Vec::new(),
                next_reader: 0,
                writer: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a reader that has applied `offset`; returns its id.
    pub fn attach(&self, offset: u64) -> u64 {
        let mut state = self.lock();
        state.next_reader += 1;
        let id = state.next_reader;
        state.readers.push(Reader {
            id,
            offset,
            waiting: None,
        });
        id
    }

    /// Forgets reader `id`; returns how many readers are left.
    pub fn detach(&self, id: u64) -> usize {
        let (left, writer) = {
            let mut state = self.lock();
            state.readers.retain(|reader| reader.id != id);
            // The publisher may have waited for this reader.
            (state.readers.len(), state.writer.take())
        };
        if let Some(writer) = writer {
            writer.wake();
        }
        left
    }

    /// Readers registered right now.
    pub fn readers(&self) -> usize {
        self.lock().readers.len()
    }

    /// Ready when the frame at `next_offset` may be appended: at once when nobody reads,
    /// otherwise when the slowest reader is less than half a buffer behind, so the buffer's
    /// bounds never drop a frame a reader still needs. Until then the publisher's task is
    /// woken whenever a reader takes a frame or leaves.
    pub fn poll_room(&self, next_offset: u64, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.lock();
        let slowest = state.readers.iter().map(|reader| reader.offset).min();
        let full = match (slowest, &state.kept) {
            // A reader at most one frame behind (the usual case) needs no backlog count.
            (Some(offset), Some(buffer)) if offset.saturating_add(2) < next_offset => {
                !buffer.has_room_for(offset)
            }
            _ => false,
        };
        if !full {
            return Poll::Ready(());
        }
        wait_in(&mut state.writer, cx);
        Poll::Pending
    }

    /// Appends the next frame and wakes the waiting readers (nothing once expired).
    pub fn append(&self, frame: StoredFrame) {
        let to_wake = {
            let mut state = self.lock();
            let Some(buffer) = state.kept.as_mut() else {
                return;
            };
            buffer.push(frame);
            ToWake::readers(&mut state)
        };
        to_wake.wake();
    }

    /// What reader `id` gets after the last frame it was given (or the offset it attached
    /// at); when there is nothing yet, its task is woken by the next append (or the expiry).
    pub fn poll_next(&self, id: u64, cx: &mut Context<'_>) -> Poll<Next> {
        let (next, writer) = {
            let mut state = self.lock();
            let state = &mut *state;
            // Always found: a watcher attaches before it reads and detaches when dropped.
            let (Some(buffer), Some(reader)) = (
                &state.kept,
                state.readers.iter_mut().find(|reader| reader.id == id),
            ) else {
                return Poll::Ready(Next::Gone);
            };
            let next = next_in(buffer, reader.offset);
            let mut writer = None;
            match &next {
                Poll::Pending => wait_in(&mut reader.waiting, cx),
                Poll::Ready(Next::Frame(frame)) => {
                    reader.offset = frame.offset;
                    // The publisher may have waited for this reader.
                    writer = state.writer.take();
                }
                Poll::Ready(_) => {}
            }
            (next, writer)
        };
        if let Some(writer) = writer {
            writer.wake();
        }
        next
    }

    /// What a reader that applied `offset` would get next, without waiting, for tests.
    #[cfg(test)]
    pub fn look_after(&self, offset: u64) -> Poll<Next> {
        self.lock()
            .kept
            .as_ref()
            .map_or(Poll::Ready(Next::Gone), |buffer| next_in(buffer, offset))
    }

    /// Where the generation stands; `None` once expired.
    pub fn progress(&self) -> Option<Progress> {
        self.lock().kept.as_ref().map(|buffer| Progress {
            first_kept: buffer.first_kept(),
            last_offset: buffer.last_offset(),
            finished: buffer.finished(),
        })
    }

    /// Bytes of frame text kept right now; `None` once expired.
    pub fn kept_bytes(&self) -> Option<usize> {
        self.lock().kept.as_ref().map(FrameBuffer::kept_bytes)
    }

    /// Drops the frames and wakes the waiting readers (they find them gone); false when they
    /// were dropped already.
    pub fn expire(&self) -> bool {
        let (expired, to_wake) = {
            let mut state = self.lock();
            let expired = state.kept.take().is_some();
            let mut to_wake = ToWake::readers(&mut state);
            to_wake.add(state.writer.take());
            (expired, to_wake)
        };
        to_wake.wake();
        expired
    }
}

/// The frame after `offset` in `buffer`; `Pending` while it is yet to come.
fn next_in(buffer: &FrameBuffer, offset: u64) -> Poll<Next> {
    Poll::Ready(match buffer.next_after(offset) {
        Ok(Some(frame)) => Next::Frame(frame.clone()),
        Ok(None) if buffer.finished() => Next::Done,
        Ok(None) => return Poll::Pending,
        Err(_) => Next::Evicted,
    })
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
        assert_eq!(frames.attach(0), 1);
        assert_eq!(frames.poll_next(1, &mut cx), Poll::Pending);
        // Polling again keeps one waker for the reader, not two.
        assert_eq!(frames.poll_next(1, &mut cx), Poll::Pending);
        frames.append(StoredFrame::numbered(1, false));
        assert_eq!(woken(&count), 1);
        frames.append(StoredFrame::numbered(2, true));
        assert_eq!(woken(&count), 1, "woken once per wait");
        assert_eq!(
            frames.poll_next(1, &mut cx),
            Poll::Ready(Next::Frame(StoredFrame::numbered(1, false)))
        );
        assert_eq!(
            frames.poll_next(1, &mut cx),
            Poll::Ready(Next::Frame(StoredFrame::numbered(2, true)))
        );
        assert_eq!(frames.poll_next(1, &mut cx), Poll::Ready(Next::Done));
        assert_eq!(frames.look_after(7), Poll::Ready(Next::Done));
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
        assert_eq!(frames.poll_next(1, &mut cx), Poll::Ready(Next::Gone));
        assert_eq!(frames.progress(), None);
        assert_eq!(frames.kept_bytes(), None);
    }

    #[test]
    fn expiry_wakes_a_waiting_reader_and_a_reader_that_left_is_not_woken() {
        let frames = GenerationFrames::new(BufferBounds::default());
        let (stays, stays_waker) = counter();
        let (leaves, leaves_waker) = counter();
        assert_eq!((frames.attach(0), frames.attach(0)), (1, 2));
        assert!(frames
            .poll_next(1, &mut Context::from_waker(&stays_waker))
            .is_pending());
        assert!(frames
            .poll_next(2, &mut Context::from_waker(&leaves_waker))
            .is_pending());
        assert_eq!(frames.detach(2), 1);
        assert!(frames.expire());
        assert_eq!((woken(&stays), woken(&leaves)), (1, 0));
        assert_eq!(
            frames.readers(),
            1,
            "readers stay registered until they leave"
        );
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
        assert_eq!(frames.progress().map(|p| p.first_kept), Some(3));
    }

    #[test]
    fn the_publisher_waits_for_a_reader_half_a_buffer_behind() {
        let frames = GenerationFrames::new(BufferBounds {
            max_frames: 8,
            max_bytes: 1_000,
        });
        let (writer, writer_waker) = counter();
        let mut publisher = Context::from_waker(&writer_waker);
        let (_, reader_waker) = counter();
        let mut reader = Context::from_waker(&reader_waker);
        // Nobody reads: no limit.
        for offset in 1..=3 {
            assert!(frames.poll_room(offset, &mut publisher).is_ready());
            frames.append(StoredFrame::numbered(offset, false));
        }
        let slow = frames.attach(0);
        assert!(frames.poll_room(4, &mut publisher).is_ready());
        frames.append(StoredFrame::numbered(4, false));
        // Four frames behind (half of eight): the publisher waits.
        assert!(frames.poll_room(5, &mut publisher).is_pending());
        assert!(frames.poll_next(slow, &mut reader).is_ready());
        assert_eq!(woken(&writer), 1, "a reader taking a frame wakes it");
        assert!(frames.poll_room(5, &mut publisher).is_ready());
        assert!(frames.poll_room(6, &mut publisher).is_ready());
        frames.append(StoredFrame::numbered(5, false));
        assert!(frames.poll_room(6, &mut publisher).is_pending());
        assert_eq!(frames.detach(slow), 0);
        assert_eq!(woken(&writer), 2, "so does a reader leaving");
        assert!(frames.poll_room(6, &mut publisher).is_ready());
    }
}
