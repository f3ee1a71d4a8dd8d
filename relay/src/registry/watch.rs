//! A socket watching a generation: the frames after its offset, then the live ones, as a
//! stream the socket's loop polls itself, until the terminal frame.
//!
//! The stream is polled inside the socket's task, only when the socket can take a frame, so a
//! slow socket reads slowly and the generation waits for it (see [`Local::room`]); nothing
//! queues between the two. Dropping the stream (socket gone, watch replaced) detaches the
//! watcher through [`WatchGuard`], which starts the generation's resume grace when it was the
//! last one watching.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use axum::extract::ws::Utf8Bytes;
use futures_util::stream::{BoxStream, Stream, StreamExt};

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
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.local.detach(self.id);
    }
}

/// One watcher's position in its generation.
struct Watcher {
    /// Holds the watcher's place among the generation's readers (its offset too).
    guard: WatchGuard,
    message_id: String,
    client_message_id: Option<String>,
    /// The last frame (terminal, or `stream_expired`) has been given.
    ended: bool,
}

/// The generation's frames after the offset `guard` attached at, ending with its terminal
/// frame; or with an `error` `stream_expired` when they are dropped before this watcher
/// reads them.
pub(super) fn follow(
    guard: WatchGuard,
    message_id: String,
    client_message_id: Option<String>,
) -> BoxStream<'static, Utf8Bytes> {
    Watcher {
        guard,
        message_id,
        client_message_id,
        ended: false,
    }
    .boxed()
}

impl Stream for Watcher {
    type Item = Utf8Bytes;

    /// The next frame to forward; `None` once the last one was given.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Utf8Bytes>> {
        let watcher = self.get_mut();
        if watcher.ended {
            return Poll::Ready(None);
        }
        let frames = watcher.guard.local.frames();
        let next = ready!(frames.poll_next(watcher.guard.id, cx));
        Poll::Ready(match next {
            Next::Frame(frame) => {
                watcher.ended = frame.terminal;
                Some(frame.text)
            }
            // The client is past the terminal frame already.
            Next::Done => None,
            Next::Evicted | Next::Gone => Some(watcher.expired()),
        })
    }
}

impl Watcher {
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
