//! This process's handle on one generation it runs: its frames (with the sockets reading
//! them) and the control its task obeys (stop, and since when nobody watches).

use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

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
    /// watcher here left, or when a follower on another instance stops following it
    /// (`followed_elsewhere_until`), whichever is later; `None` while watched here.
    pub fn abandon_at(
        &self,
        grace: Duration,
        followed_elsewhere_until: Option<Instant>,
    ) -> Option<Instant> {
        let here = self.unwatched_since? + grace;
        Some(followed_elsewhere_until.map_or(here, |until| until.max(here)))
    }
}

/// The registry's per-generation state in this process.
pub struct Local {
    frames: Arc<GenerationFrames>,
    control: watch::Sender<Control>,
}

impl Local {
    /// A generation with `frames` that nobody watches yet, and the receiver its task reads its
    /// control from.
    pub fn new(frames: Arc<GenerationFrames>) -> (Local, watch::Receiver<Control>) {
        let (control, rx) = watch::channel(Control {
            stop: None,
            unwatched_since: Some(Instant::now()),
        });
        (Local { frames, control }, rx)
    }

    /// The generation's frames.
    pub fn frames(&self) -> &GenerationFrames {
        &self.frames
    }

    /// Registers a watcher that has applied `offset` (ending the resume grace, if it ran);
    /// returns its id.
    pub(super) fn attach(&self, offset: u64) -> u64 {
        let id = self.frames.attach(offset);
        self.control.send_if_modified(|c| {
            let was = c.unwatched_since.take();
            was.is_some()
        });
        id
    }

    /// Forgets watcher `id`; the resume grace starts when it was the last.
    pub(super) fn detach(&self, id: u64) {
        if self.frames.detach(id) == 0 {
            self.control
                .send_modify(|c| c.unwatched_since = Some(Instant::now()));
        }
    }

    /// Sockets watching right now.
    pub fn watchers(&self) -> usize {
        self.frames.readers()
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

    /// Waits until the frame at `next_offset` may be appended (see
    /// [`GenerationFrames::poll_room`]).
    pub async fn room(&self, next_offset: u64) {
        poll_fn(|cx| self.frames.poll_room(next_offset, cx)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::buffer::BufferBounds;

    #[tokio::test(start_paused = true)]
    async fn grace_starts_when_the_last_watcher_leaves() {
        let frames = Arc::new(GenerationFrames::new(BufferBounds::default()));
        let (local, mut control) = Local::new(frames);
        assert!(control.borrow_and_update().unwatched_since.is_some());
        let a = local.attach(0);
        let b = local.attach(3);
        assert_eq!(control.borrow_and_update().unwatched_since, None);
        assert_eq!(local.watchers(), 2);
        local.detach(a);
        assert_eq!(control.borrow_and_update().unwatched_since, None);
        let left = Instant::now();
        local.detach(b);
        let now = *control.borrow_and_update();
        assert_eq!(now.unwatched_since, Some(left));
        let grace = Duration::from_secs(30);
        assert_eq!(now.abandon_at(grace, None), Some(left + grace));
        // A follower elsewhere keeps it going past the grace here, never shortens it.
        let followed = left + Duration::from_secs(45);
        assert_eq!(now.abandon_at(grace, Some(followed)), Some(followed));
        assert_eq!(now.abandon_at(grace, Some(left)), Some(left + grace));
        local.stop(ErrorCode::Cancelled);
        local.stop(ErrorCode::ServerRestarting);
        assert_eq!(control.borrow().stop, Some(ErrorCode::Cancelled));
    }
}
