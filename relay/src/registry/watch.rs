//! A socket watching a generation: reads the frames after its offset from the store and
//! forwards them to the socket's outbox, waking on each append, until the terminal frame.
//!
//! The future runs inside the socket's task; dropping it (socket gone, watch replaced)
//! detaches the watcher through [`WatchGuard`], which starts the generation's resume grace
//! when it was the last one watching.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;

use super::local::Local;
use super::store::{Read, StreamStore};
use crate::error::ErrorCode;
use crate::protocol::{self, ServerFrame};

/// Frames read from the store at a time.
const READ_BATCH: usize = 64;

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

/// How a watch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchEnd {
    /// The terminal frame was forwarded.
    Finished,
    /// The frames were dropped before this watcher read them; `stream_expired` was sent.
    Expired,
    /// The socket's outbox is gone.
    Closed,
}

/// Forwards the generation's frames after `offset` into `out` until its terminal frame.
pub(super) async fn forward(
    store: Arc<dyn StreamStore>,
    guard: WatchGuard,
    message_id: String,
    client_message_id: Option<String>,
    mut offset: u64,
    out: mpsc::Sender<Utf8Bytes>,
) -> WatchEnd {
    let Some(mut wake) = store.subscribe(&message_id) else {
        return expired(&out, &message_id, client_message_id.as_deref()).await;
    };
    loop {
        // Mark the wake-up seen before reading, so an append after the read wakes us.
        wake.borrow_and_update();
        let frames = match store.read_after(&message_id, offset, READ_BATCH) {
            Read::Frames(frames) => frames,
            // The client is past the terminal frame already.
            Read::Done => return WatchEnd::Finished,
            Read::Evicted | Read::Gone => {
                return expired(&out, &message_id, client_message_id.as_deref()).await
            }
        };
        let full_batch = frames.len() == READ_BATCH;
        for frame in frames {
            if out.send(frame.text).await.is_err() {
                return WatchEnd::Closed;
            }
            offset = frame.offset;
            guard.advance(offset);
            if frame.terminal {
                return WatchEnd::Finished;
            }
        }
        if full_batch {
            continue;
        }
        // Returns at once when a frame was appended since the mark above.
        if wake.changed().await.is_err() {
            // The store dropped the frames (the wake-up closes with them).
            return expired(&out, &message_id, client_message_id.as_deref()).await;
        }
    }
}

async fn expired(
    out: &mpsc::Sender<Utf8Bytes>,
    message_id: &str,
    client_message_id: Option<&str>,
) -> WatchEnd {
    let frame = protocol::encode(&ServerFrame::error(
        ErrorCode::StreamExpired,
        Some(message_id),
        client_message_id,
        None,
    ));
    match out.send(Utf8Bytes::from(frame)).await {
        Ok(()) => WatchEnd::Expired,
        Err(_) => WatchEnd::Closed,
    }
}
