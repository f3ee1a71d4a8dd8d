//! The store behind the generation registry: each generation's frames, the ids it is found
//! by, and whether it is still kept. A trait, so that several relay instances can later share
//! one store (Redis streams for the frames, keys for the ids, pub/sub as the wake-up) while
//! the registry and the socket code stay as they are; [`MemoryStore`](super::MemoryStore) is
//! the in-process implementation.
//!
//! The store holds state that can be read back, never only messages: a watcher reads the
//! frames after its offset and waits on [`StreamStore::subscribe`]'s wake-up only when it has
//! read everything, so a lost wake-up delays nothing that a re-read would not find.

use tokio::sync::watch;

use super::buffer::{Backlog, BufferBounds, StoredFrame};
use crate::auth::TokenId;
use crate::protocol::ResumeTarget;

/// Who may reach a generation: the token it was started with and the socket's session, as
/// for history. A lookup from another scope finds nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The token the socket authenticated with (0 for every token in dev mode).
    pub owner: TokenId,
    /// The session id from the socket path.
    pub session_id: String,
}

/// What a generation is found by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamMeta {
    /// Whose it is.
    pub scope: Scope,
    /// The relay's id.
    pub message_id: String,
    /// The client's id of the message that started it, if it sent one.
    pub client_message_id: Option<String>,
    /// Its conversation.
    pub conversation_id: String,
}

/// What the store knows of a generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Never seen in this scope, or forgotten.
    Unknown,
    /// Its frames are kept.
    Live {
        /// Its ids.
        meta: StreamMeta,
        /// Offset of the oldest frame kept (`last_offset + 1` when none is).
        first_kept: u64,
        /// Offset of the newest frame (0 before the first).
        last_offset: u64,
        /// Whether its terminal frame is stored.
        finished: bool,
    },
    /// Known, but its frames are no longer kept.
    Expired(StreamMeta),
}

/// The answer to [`StreamStore::read_after`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// The next frames after the offset, oldest first (empty: none yet).
    Frames(Vec<StoredFrame>),
    /// Nothing after the offset, and nothing will come: the generation has finished.
    Done,
    /// The frame right after the offset was dropped by the buffer's bounds.
    Evicted,
    /// The generation's frames are no longer kept at all.
    Gone,
}

/// A generation with this `client_message_id` already exists in the scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("client_message_id already accepted")]
pub struct ClientIdTaken;

/// Shared generation state. Synchronous: the in-memory store never waits, and the registry
/// (`registry.rs`) is its only caller, so a networked store changes only that file.
pub trait StreamStore: Send + Sync + 'static {
    /// Registers a new generation with no frames. Refused when its `client_message_id` is
    /// already known in its scope (the caller answers that message as a resume).
    fn open(&self, meta: StreamMeta) -> Result<(), ClientIdTaken>;
    /// Appends the generation's next frame and wakes its subscribers.
    fn append(&self, message_id: &str, frame: StoredFrame);
    /// Finds a generation in `scope` by an id; by conversation, the latest one.
    fn find(&self, scope: &Scope, target: ResumeTarget<'_>) -> Lookup;
    /// Up to `max` frames after `offset`.
    fn read_after(&self, message_id: &str, offset: u64, max: usize) -> Read;
    /// How far a reader at `offset` is behind the newest frame.
    fn backlog(&self, message_id: &str, offset: u64) -> Backlog;
    /// A wake-up carrying the newest offset, changed on every append; it closes when the
    /// generation's frames are dropped.
    fn subscribe(&self, message_id: &str) -> Option<watch::Receiver<u64>>;
    /// Drops the frames, remembering that the generation existed (a resume then gets
    /// `stream_expired`).
    fn expire(&self, message_id: &str);
    /// The bounds of each generation's buffer.
    fn bounds(&self) -> BufferBounds;
}
