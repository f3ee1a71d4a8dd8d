//! The store behind the generation registry: the ids each generation is found by, whether it
//! is still kept, and a handle on its frames. A trait, so that the registry and the socket code
//! do not depend on the backend; [`MemoryStore`](super::MemoryStore) is the in-process
//! implementation. (Several relay instances share generations through Redis beside it:
//! `redis_stream.rs` mirrors each generation's frames there.)
//!
//! The frames themselves are a [`GenerationFrames`] handle, held by the generation's publisher
//! and its watchers: the hot path (append, read, wake-up) never goes through the store.

use std::sync::Arc;

use super::frames::GenerationFrames;
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

/// A generation with this `client_message_id` already exists in the scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("client_message_id already accepted")]
pub struct ClientIdTaken;

/// Shared generation state. Synchronous: the in-memory store never waits, and the registry
/// (`registry.rs`) is its only caller.
pub trait StreamStore: Send + Sync + 'static {
    /// Registers a new generation with no frames and returns the handle its frames go
    /// through. Refused when its `client_message_id` is already known in its scope (the
    /// caller answers that message as a resume).
    fn open(&self, meta: StreamMeta) -> Result<Arc<GenerationFrames>, ClientIdTaken>;
    /// Finds a generation in `scope` by an id; by conversation, the latest one.
    fn find(&self, scope: &Scope, target: ResumeTarget<'_>) -> Lookup;
    /// Drops the frames, remembering that the generation existed (a resume then gets
    /// `stream_expired`).
    fn expire(&self, message_id: &str);
}
