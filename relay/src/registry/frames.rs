//! One generation's kept frames, shared by the publisher that appends them and the watchers
//! that read them: each holds this handle, so a token touches only its own generation's
//! lock, never the store's map of every generation.
//!
//! (Before it, every append, read and backlog check locked the store's one map of every
//! generation and looked this one up by `message_id`: three lookups per token.)

use std::sync::{Mutex, PoisonError};

use tokio::sync::watch;

use super::buffer::{Backlog, BufferBounds, FrameBuffer, StoredFrame};

/// What a reader finds after the offset it has applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The next frame.
    Frame(StoredFrame),
    /// Nothing yet: wait for [`GenerationFrames::subscribe`]'s wake-up.
    Pending,
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
    /// Carries the newest offset; dropped (closing every receiver) when the frames are.
    appended: watch::Sender<u64>,
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
        let (appended, _) = watch::channel(0);
        GenerationFrames {
            bounds,
            kept: Mutex::new(Some(Kept {
                buffer: FrameBuffer::new(bounds),
                appended,
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

    /// Appends the next frame and wakes the subscribers (nothing once expired).
    pub fn append(&self, frame: StoredFrame) {
        if let Some(kept) = self.lock().as_mut() {
            let offset = frame.offset;
            kept.buffer.push(frame);
            kept.appended.send_replace(offset);
        }
    }

    /// What a reader that applied `offset` gets next.
    pub fn next_after(&self, offset: u64) -> Next {
        let kept = self.lock();
        let Some(kept) = kept.as_ref() else {
            return Next::Gone;
        };
        match kept.buffer.next_after(offset) {
            Ok(Some(frame)) => Next::Frame(frame.clone()),
            Ok(None) if kept.buffer.finished() => Next::Done,
            Ok(None) => Next::Pending,
            Err(_) => Next::Evicted,
        }
    }

    /// How far a reader at `offset` is behind the newest frame.
    pub fn backlog(&self, offset: u64) -> Backlog {
        self.lock()
            .as_ref()
            .map(|kept| kept.buffer.backlog(offset))
            .unwrap_or_default()
    }

    /// A wake-up changed on every append; it closes when the frames are dropped. `None`
    /// once they are.
    pub fn subscribe(&self) -> Option<watch::Receiver<u64>> {
        self.lock().as_ref().map(|kept| kept.appended.subscribe())
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

    /// Drops the frames and closes the wake-up; false when they were dropped already.
    pub fn expire(&self) -> bool {
        self.lock().take().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wake_ups_and_expiry() {
        let frames = GenerationFrames::new(BufferBounds::default());
        let mut wake = frames.subscribe().unwrap();
        assert_eq!(frames.next_after(0), Next::Pending);
        frames.append(StoredFrame::numbered(1, false));
        frames.append(StoredFrame::numbered(2, true));
        assert!(wake.has_changed().unwrap());
        assert_eq!(*wake.borrow_and_update(), 2);
        assert_eq!(
            frames.next_after(0),
            Next::Frame(StoredFrame::numbered(1, false))
        );
        assert_eq!(
            frames.next_after(1),
            Next::Frame(StoredFrame::numbered(2, true))
        );
        assert_eq!(frames.next_after(2), Next::Done);
        assert_eq!(frames.next_after(7), Next::Done);
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
        assert_eq!(frames.next_after(0), Next::Gone);
        assert!(wake.has_changed().is_err(), "expiry closes the wake-up");
        assert!(frames.subscribe().is_none());
        assert_eq!(frames.progress(), None);
        assert_eq!(frames.kept_bytes(), None);
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
        assert_eq!(frames.next_after(1), Next::Evicted);
        assert_eq!(
            frames.next_after(2),
            Next::Frame(StoredFrame::numbered(3, false))
        );
        assert_eq!(frames.backlog(2).frames, 2);
        assert_eq!(frames.progress().map(|p| p.first_kept), Some(3));
    }
}
