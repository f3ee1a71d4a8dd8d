//! This process's handle on one generation it runs: its frames, the control its task obeys
//! (stop, and since when nobody watches) and the offsets its watchers have reached (so a
//! generation slows down for a slow watcher instead of overrunning it).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::buffer::{Backlog, BufferBounds};
use super::frames::GenerationFrames;
use crate::error::ErrorCode;

/// What the generation's task is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Control {
    /// End now with this error (`cancelled`, `server_restarting`).
    pub stop: Option<ErrorCode>,
    /// Since when no socket watches the generation (`None` while one does).
    pub unwatched_since: Option<Instant>,
}

impl Control {
    /// When the generation is abandoned if nobody resumes it: `grace` after the last
    /// watcher left.
    pub fn abandon_at(&self, grace: Duration) -> Option<Instant> {
        self.unwatched_since.map(|since| since + grace)
    }
}

#[derive(Default)]
struct Watchers {
    next_id: u64,
    /// (watcher id, last offset it forwarded)
    offsets: Vec<(u64, u64)>,
}

/// The registry's per-generation state in this process.
pub struct Local {
    frames: Arc<GenerationFrames>,
    control: watch::Sender<Control>,
    watchers: Mutex<Watchers>,
    advanced: Notify,
    /// Whether the writer waits for a watcher (watchers only wake it then).
    writer_waits: AtomicBool,
}

/// Whether a writer may append while its slowest watcher is `backlog` behind: it may until
/// the watcher is half a buffer behind, so a watcher is never overrun by the bounds.
pub fn has_room(backlog: Backlog, bounds: BufferBounds) -> bool {
    backlog.frames < (bounds.max_frames / 2).max(1) && backlog.bytes < (bounds.max_bytes / 2).max(1)
}

impl Local {
    /// A generation with `frames` that nobody watches yet, and the receiver its task reads its
    /// control from.
    pub fn new(frames: Arc<GenerationFrames>) -> (Local, watch::Receiver<Control>) {
        let (control, rx) = watch::channel(Control {
            stop: None,
            unwatched_since: Some(Instant::now()),
        });
        let local = Local {
            frames,
            control,
            watchers: Mutex::default(),
            advanced: Notify::new(),
            writer_waits: AtomicBool::new(false),
        };
        (local, rx)
    }

    /// The generation's frames.
    pub fn frames(&self) -> &GenerationFrames {
        &self.frames
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Watchers> {
        self.watchers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn attach(&self, offset: u64) -> u64 {
        let id = {
            let mut watchers = self.lock();
            watchers.next_id += 1;
            let id = watchers.next_id;
            watchers.offsets.push((id, offset));
            id
        };
        self.control.send_if_modified(|c| {
            let was = c.unwatched_since.take();
            was.is_some()
        });
        id
    }

    pub(super) fn advance(&self, id: u64, offset: u64) {
        if let Some(entry) = self.lock().offsets.iter_mut().find(|(i, _)| *i == id) {
            entry.1 = offset;
        }
        if self.writer_waits.load(Ordering::Acquire) {
            self.advanced.notify_waiters();
        }
    }

    pub(super) fn detach(&self, id: u64) {
        self.frames.stop_waiting(id);
        let none_left = {
            let mut watchers = self.lock();
            watchers.offsets.retain(|(i, _)| *i != id);
            watchers.offsets.is_empty()
        };
        if none_left {
            self.control
                .send_modify(|c| c.unwatched_since = Some(Instant::now()));
        }
        self.advanced.notify_waiters();
    }

    /// Sockets watching right now.
    pub fn watchers(&self) -> usize {
        self.lock().offsets.len()
    }

    /// The offset of the watcher furthest behind, if any watches.
    pub fn slowest(&self) -> Option<u64> {
        self.lock().offsets.iter().map(|(_, offset)| *offset).min()
    }

    /// Tells the generation to end with `reason` (the first reason wins; a no-op once it
    /// has ended).
    pub fn stop(&self, reason: ErrorCode) {
        self.control.send_if_modified(|c| {
            if c.stop.is_some() {
                return false;
            }
            c.stop = Some(reason);
            true
        });
    }

    /// Waits until the slowest watcher is less than half a buffer behind (at once when
    /// nobody watches), before the frame at `next_offset` is appended.
    pub async fn room(&self, next_offset: u64) {
        let full = || match self.slowest() {
            // A watcher at most one frame behind (the usual case) needs no backlog count.
            Some(offset) if offset.saturating_add(2) < next_offset => {
                !has_room(self.frames.backlog(offset), self.frames.bounds())
            }
            _ => false,
        };
        while full() {
            let advanced = self.advanced.notified();
            tokio::pin!(advanced);
            advanced.as_mut().enable();
            self.writer_waits.store(true, Ordering::Release);
            if full() {
                advanced.await;
            }
            self.writer_waits.store(false, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watcher_half_a_buffer_behind_holds_the_writer() {
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

    #[tokio::test(start_paused = true)]
    async fn grace_starts_when_the_last_watcher_leaves() {
        let frames = Arc::new(GenerationFrames::new(BufferBounds::default()));
        let (local, mut control) = Local::new(frames);
        assert!(control.borrow_and_update().unwatched_since.is_some());
        let a = local.attach(0);
        let b = local.attach(3);
        assert_eq!(control.borrow_and_update().unwatched_since, None);
        assert_eq!(local.slowest(), Some(0));
        local.advance(a, 5);
        assert_eq!(local.slowest(), Some(3));
        local.detach(a);
        assert_eq!(control.borrow_and_update().unwatched_since, None);
        let left = Instant::now();
        local.detach(b);
        let now = *control.borrow_and_update();
        assert_eq!(now.unwatched_since, Some(left));
        assert_eq!(
            now.abandon_at(Duration::from_secs(30)),
            Some(left + Duration::from_secs(30))
        );
        local.stop(ErrorCode::Cancelled);
        local.stop(ErrorCode::ServerRestarting);
        assert_eq!(control.borrow().stop, Some(ErrorCode::Cancelled));
    }
}
