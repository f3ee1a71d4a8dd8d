//! A socket watching a generation: the frames after its offset, then the live ones, as a
//! stream the socket's loop polls itself, until the terminal frame.
//!
//! The stream is polled inside the socket's task, only when the socket can take a frame, so a
//! slow socket reads slowly and the generation waits for it (see [`Local::room`]); nothing
//! queues between the two. Dropping the stream (socket gone, watch replaced) detaches the
//! watcher through [`WatchGuard`], which starts the generation's resume grace when it was the
//! last one watching.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::watch;

use super::frames::Next;
use super::local::Local;
use crate::error::ErrorCode;
use crate::protocol::{self, ServerFrame};

/// Keeps a watcher registered with its generation; dropping it detaches the watcher.
pub struct WatchGuard {
    local: Arc<Local>,
    id: u64,
}

impl WatchGuard {
    /// Registers a watcher that has applied `offset`.
    pub(super) fn attach(local: Arc<Local>, offset: u64) -> WatchGuard {
        let id = local.attach(offset);
        WatchGuard { local, id }
    }

    fn advance(&self, offset: u64) {
        self.local.advance(self.id, offset);
    }
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.local.detach(self.id);
    }
}

/// One watcher's position in its generation.
struct Watcher {
    guard: WatchGuard,
    /// Changed on every append; `None` when the frames were gone before the watch began.
    appended: Option<watch::Receiver<u64>>,
    offset: u64,
    message_id: String,
    client_message_id: Option<String>,
    /// The last frame (terminal, or `stream_expired`) has been given.
    ended: bool,
}

/// The generation's frames after `offset`, ending with its terminal frame; or with an
/// `error` `stream_expired` when they are dropped before this watcher reads them.
pub(super) fn follow(
    guard: WatchGuard,
    message_id: String,
    client_message_id: Option<String>,
    offset: u64,
) -> BoxStream<'static, Utf8Bytes> {
    let appended = guard.local.frames().subscribe();
    let watcher = Watcher {
        guard,
        appended,
        offset,
        message_id,
        client_message_id,
        ended: false,
    };
    stream::unfold(watcher, |mut watcher| async move {
        let frame = watcher.next().await?;
        Some((frame, watcher))
    })
    .boxed()
}

impl Watcher {
    /// The next frame to forward; `None` once the last one was given.
    async fn next(&mut self) -> Option<Utf8Bytes> {
        if self.ended {
            return None;
        }
        loop {
            let Some(appended) = &mut self.appended else {
                return Some(self.expired());
            };
            let frames = self.guard.local.frames();
            let mut next = frames.next_after(self.offset);
            if matches!(next, Next::Pending) {
                // Mark every append so far as seen, then look again: an append between the
                // first look and the mark is found now, and any later one wakes the wait.
                appended.borrow_and_update();
                next = frames.next_after(self.offset);
            }
            match next {
                Next::Frame(frame) => {
                    self.offset = frame.offset;
                    self.guard.advance(frame.offset);
                    self.ended = frame.terminal;
                    return Some(frame.text);
                }
                // The client is past the terminal frame already.
                Next::Done => return None,
                Next::Evicted | Next::Gone => return Some(self.expired()),
                Next::Pending => {
                    if appended.changed().await.is_err() {
                        // The frames were dropped (the wake-up closes with them).
                        return Some(self.expired());
                    }
                }
            }
        }
    }

    fn expired(&mut self) -> Utf8Bytes {
        self.ended = true;
        Utf8Bytes::from(protocol::encode(&ServerFrame::error(
            ErrorCode::StreamExpired,
            Some(&self.message_id),
            self.client_message_id.as_deref(),
            None,
        )))
    }
}
