//! The frames a generation keeps for resumes: a ring bounded in frames and in bytes.
//!
//! Pure data, no I/O and no clock, so its rules are unit-tested here. Frames are numbered by
//! their generation offset (1, 2, 3, …, no gaps). Past either bound the oldest frames are
//! dropped; a resume from before the oldest kept frame can no longer be served. The newest
//! frame is always kept, so a finished generation's terminal frame survives any bound.

use std::collections::VecDeque;

use axum::extract::ws::Utf8Bytes;

/// How much of a generation is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferBounds {
    /// Most frames kept.
    pub max_frames: usize,
    /// Most bytes of frame text kept (the newest frame is kept even when larger).
    pub max_bytes: usize,
}

impl Default for BufferBounds {
    fn default() -> Self {
        BufferBounds {
            max_frames: 4_096,
            max_bytes: 1024 * 1024,
        }
    }
}

/// One frame of a generation, as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFrame {
    /// Its offset within the generation (from 1).
    pub offset: u64,
    /// Whether it ends the generation (`stream_complete`, `chat_message` or `error`).
    pub terminal: bool,
    /// The JSON text (cheap to clone: shared bytes).
    pub text: Utf8Bytes,
}

#[cfg(test)]
impl StoredFrame {
    /// A frame whose text is `frame <offset>`, for tests.
    pub fn numbered(offset: u64, terminal: bool) -> StoredFrame {
        StoredFrame {
            offset,
            terminal,
            text: Utf8Bytes::from(format!("frame {offset}")),
        }
    }
}

/// How far a reader at some offset is behind the newest frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    /// Frames after the reader's offset.
    pub frames: usize,
    /// Bytes of those frames.
    pub bytes: usize,
}

/// Whether a publisher may append while its slowest reader is `backlog` behind: it may until
/// the reader is half a buffer behind, so a reader is never overrun by the bounds.
pub fn has_room(backlog: Backlog, bounds: BufferBounds) -> bool {
    backlog.frames < (bounds.max_frames / 2).max(1) && backlog.bytes < (bounds.max_bytes / 2).max(1)
}

/// Frames after an offset could not be served: the first of them was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evicted;

/// A generation's kept frames.
#[derive(Debug)]
pub struct FrameBuffer {
    bounds: BufferBounds,
    /// Each frame with the running total of bytes appended up to and including it.
    frames: VecDeque<(StoredFrame, usize)>,
    /// Offset of the next frame to be appended.
    next_offset: u64,
    /// Bytes currently kept.
    kept_bytes: usize,
    /// Bytes appended since the start (kept or not).
    appended_bytes: usize,
}

impl FrameBuffer {
    /// An empty buffer; the first frame appended must have offset 1.
    pub fn new(bounds: BufferBounds) -> FrameBuffer {
        FrameBuffer {
            bounds,
            frames: VecDeque::new(),
            next_offset: 1,
            kept_bytes: 0,
            appended_bytes: 0,
        }
    }

    /// The offset of the newest frame appended (0 before the first).
    pub fn last_offset(&self) -> u64 {
        self.next_offset - 1
    }

    /// The offset of the oldest frame kept (`last_offset + 1` when none is kept).
    pub fn first_kept(&self) -> u64 {
        self.frames
            .front()
            .map_or(self.next_offset, |(frame, _)| frame.offset)
    }

    /// Whether the terminal frame has been appended.
    pub fn finished(&self) -> bool {
        self.frames.back().is_some_and(|(frame, _)| frame.terminal)
    }

    /// Bytes kept right now.
    pub fn kept_bytes(&self) -> usize {
        self.kept_bytes
    }

    /// Frames kept right now.
    pub fn kept_frames(&self) -> usize {
        self.frames.len()
    }

    /// Appends the next frame (its offset must follow the last one; nothing follows a
    /// terminal frame) and drops the oldest past the bounds. Returns how many were dropped.
    pub fn push(&mut self, frame: StoredFrame) -> usize {
        debug_assert_eq!(frame.offset, self.next_offset, "offsets run without gaps");
        if self.finished() || frame.offset != self.next_offset {
            return 0;
        }
        self.next_offset += 1;
        let len = frame.text.len();
        self.kept_bytes += len;
        self.appended_bytes += len;
        self.frames.push_back((frame, self.appended_bytes));
        let mut dropped = 0;
        while self.frames.len() > 1
            && (self.frames.len() > self.bounds.max_frames
                || self.kept_bytes > self.bounds.max_bytes)
        {
            if let Some((old, _)) = self.frames.pop_front() {
                self.kept_bytes -= old.text.len();
                dropped += 1;
            }
        }
        dropped
    }

    /// Whether a publisher may append while a reader is at `reader_offset` (see
    /// [`has_room`]).
    pub fn has_room_for(&self, reader_offset: u64) -> bool {
        has_room(self.backlog(reader_offset), self.bounds)
    }

    /// Whether a reader that applied `offset` can be given every frame after it.
    pub fn can_serve_after(&self, offset: u64) -> bool {
        offset.saturating_add(1) >= self.first_kept()
    }

    /// The frame right after `offset` (`None` when there is none yet, or `offset` is at
    /// or past the newest); [`Evicted`] when it is no longer kept.
    pub fn next_after(&self, offset: u64) -> Result<Option<&StoredFrame>, Evicted> {
        if !self.can_serve_after(offset) {
            return Err(Evicted);
        }
        let index = offset.saturating_add(1) - self.first_kept();
        Ok(usize::try_from(index)
            .ok()
            .and_then(|index| self.frames.get(index))
            .map(|(frame, _)| frame))
    }

    /// How far a reader that applied `offset` is behind (0 when it is at the newest frame).
    /// For a reader already past the bounds, `bytes` counts the kept frames only.
    pub fn backlog(&self, offset: u64) -> Backlog {
        let first = self.first_kept();
        if offset >= self.last_offset() {
            return Backlog::default();
        }
        let frames = usize::try_from(self.last_offset() - offset).unwrap_or(usize::MAX);
        // Bytes appended after `offset`: the running total minus the total at `offset`.
        let before = if offset < first {
            self.appended_bytes - self.kept_bytes
        } else {
            let index = usize::try_from(offset - first).unwrap_or(usize::MAX);
            self.frames.get(index).map_or(0, |(_, total)| *total)
        };
        Backlog {
            frames,
            bytes: self.appended_bytes - before,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_half_a_buffer_behind_holds_the_publisher() {
        let bounds = BufferBounds {
            max_frames: 8,
            max_bytes: 100,
        };
        let behind = |frames, bytes| Backlog { frames, bytes };
        assert!(has_room(behind(0, 0), bounds));
        assert!(has_room(behind(3, 49), bounds));
        assert!(!has_room(behind(4, 10), bounds));
        assert!(!has_room(behind(1, 50), bounds));
    }

    fn frame(offset: u64, text: &str, terminal: bool) -> StoredFrame {
        StoredFrame {
            offset,
            terminal,
            text: Utf8Bytes::from(text.to_owned()),
        }
    }

    /// The offsets a reader that applied `offset` is given, reading frame by frame.
    fn read_all(buffer: &FrameBuffer, mut offset: u64) -> Result<Vec<u64>, Evicted> {
        let mut read = Vec::new();
        while let Some(frame) = buffer.next_after(offset)? {
            offset = frame.offset;
            read.push(offset);
        }
        Ok(read)
    }

    #[test]
    fn serves_every_frame_after_an_offset() {
        let mut buffer = FrameBuffer::new(BufferBounds::default());
        assert_eq!(read_all(&buffer, 0), Ok(vec![]));
        for offset in 1..=4 {
            buffer.push(frame(offset, "tok", false));
        }
        assert_eq!(read_all(&buffer, 0).unwrap(), [1, 2, 3, 4]);
        assert_eq!(read_all(&buffer, 2).unwrap(), [3, 4]);
        assert!(read_all(&buffer, 4).unwrap().is_empty());
        assert!(read_all(&buffer, 9).unwrap().is_empty());
        assert!(!buffer.finished());
        buffer.push(frame(5, "done", true));
        assert!(buffer.finished());
        assert_eq!(buffer.last_offset(), 5);
        // Nothing follows a terminal frame.
        assert_eq!(buffer.push(frame(6, "late", false)), 0);
        assert_eq!(buffer.last_offset(), 5);
    }

    #[test]
    fn the_frame_bound_drops_the_oldest() {
        let mut buffer = FrameBuffer::new(BufferBounds {
            max_frames: 3,
            max_bytes: 1_000,
        });
        let dropped: usize = (1..=5).map(|o| buffer.push(frame(o, "x", false))).sum();
        assert_eq!(dropped, 2);
        assert_eq!(buffer.first_kept(), 3);
        assert_eq!(buffer.kept_frames(), 3);
        assert_eq!(read_all(&buffer, 1), Err(Evicted));
        assert!(!buffer.can_serve_after(1));
        assert!(buffer.can_serve_after(2));
        assert_eq!(read_all(&buffer, 2).unwrap(), [3, 4, 5]);
        assert_eq!(buffer.next_after(1), Err(Evicted));
        assert_eq!(buffer.next_after(2).unwrap().map(|f| f.offset), Some(3));
        assert_eq!(buffer.next_after(4).unwrap().map(|f| f.offset), Some(5));
        assert_eq!(buffer.next_after(5), Ok(None));
        assert_eq!(buffer.next_after(u64::MAX), Ok(None));
    }

    #[test]
    fn the_byte_bound_drops_the_oldest_but_keeps_the_newest() {
        let mut buffer = FrameBuffer::new(BufferBounds {
            max_frames: 100,
            max_bytes: 10,
        });
        buffer.push(frame(1, "aaaa", false));
        buffer.push(frame(2, "bbbb", false));
        assert_eq!(buffer.kept_bytes(), 8);
        buffer.push(frame(3, "cccc", false));
        assert_eq!(buffer.first_kept(), 2);
        assert_eq!(buffer.kept_bytes(), 8);
        // One frame over the bound on its own is still kept: it may be the terminal one.
        buffer.push(frame(4, &"z".repeat(50), true));
        assert_eq!(read_all(&buffer, 3).unwrap(), [4]);
        assert_eq!(buffer.kept_frames(), 1);
        assert!(buffer.finished());
    }

    #[test]
    fn backlog_counts_frames_and_bytes_behind_the_newest() {
        let mut buffer = FrameBuffer::new(BufferBounds {
            max_frames: 3,
            max_bytes: 1_000,
        });
        assert_eq!(buffer.backlog(0), Backlog::default());
        buffer.push(frame(1, "a", false));
        buffer.push(frame(2, "bb", false));
        buffer.push(frame(3, "ccc", false));
        assert_eq!(
            buffer.backlog(0),
            Backlog {
                frames: 3,
                bytes: 6
            }
        );
        assert_eq!(
            buffer.backlog(2),
            Backlog {
                frames: 1,
                bytes: 3
            }
        );
        assert_eq!(buffer.backlog(3), Backlog::default());
        buffer.push(frame(4, "dddd", false));
        // Offset 0 is before the oldest kept frame: the kept bytes count.
        assert_eq!(
            buffer.backlog(0),
            Backlog {
                frames: 4,
                bytes: 9
            }
        );
        assert_eq!(
            buffer.backlog(1),
            Backlog {
                frames: 3,
                bytes: 9
            }
        );
    }
}
