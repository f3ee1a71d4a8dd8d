//! The in-process [`StreamStore`]: every generation's ids and frame handle in one map behind
//! a mutex (held only for map operations, never across an await). Tokens do not come here:
//! they go through each generation's own [`GenerationFrames`].
//!
//! Expired generations leave a small record (their ids) so a late resume is told
//! `stream_expired` rather than "unknown"; at most `max_expired` such records are kept,
//! oldest forgotten first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use super::buffer::BufferBounds;
use super::frames::GenerationFrames;
use super::store::{ClientIdTaken, Lookup, Scope, StreamMeta, StreamStore};
use crate::protocol::ResumeTarget;

/// Expired generations remembered by default.
pub const DEFAULT_MAX_EXPIRED: usize = 10_000;

struct Stream {
    meta: StreamMeta,
    frames: Arc<GenerationFrames>,
}

#[derive(Default)]
struct Inner {
    streams: HashMap<String, Stream>,
    by_client: HashMap<(Scope, String), String>,
    by_conversation: HashMap<(Scope, String), String>,
    expired: VecDeque<String>,
}

impl Inner {
    fn forget(&mut self, message_id: &str) {
        let Some(stream) = self.streams.remove(message_id) else {
            return;
        };
        let meta = stream.meta;
        if let Some(client_id) = meta.client_message_id {
            let key = (meta.scope.clone(), client_id);
            if self.by_client.get(&key).is_some_and(|id| id == message_id) {
                self.by_client.remove(&key);
            }
        }
        let key = (meta.scope, meta.conversation_id);
        if self
            .by_conversation
            .get(&key)
            .is_some_and(|id| id == message_id)
        {
            self.by_conversation.remove(&key);
        }
    }
}

/// Generations kept in this process's memory.
pub struct MemoryStore {
    inner: Mutex<Inner>,
    bounds: BufferBounds,
    max_expired: usize,
}

impl MemoryStore {
    /// An empty store whose buffers have `bounds`, remembering `max_expired` expired ids.
    pub fn new(bounds: BufferBounds, max_expired: usize) -> MemoryStore {
        MemoryStore {
            inner: Mutex::default(),
            bounds,
            max_expired,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Generations whose frames are kept right now, and the bytes they hold.
    pub fn kept(&self) -> (usize, usize) {
        let inner = self.lock();
        inner
            .streams
            .values()
            .filter_map(|s| s.frames.kept_bytes())
            .fold((0, 0), |(n, bytes), kept| (n + 1, bytes + kept))
    }
}

impl StreamStore for MemoryStore {
    fn open(&self, meta: StreamMeta) -> Result<Arc<GenerationFrames>, ClientIdTaken> {
        let mut inner = self.lock();
        if let Some(client_id) = &meta.client_message_id {
            let key = (meta.scope.clone(), client_id.clone());
            if inner.by_client.contains_key(&key) {
                return Err(ClientIdTaken);
            }
            inner.by_client.insert(key, meta.message_id.clone());
        }
        inner.by_conversation.insert(
            (meta.scope.clone(), meta.conversation_id.clone()),
            meta.message_id.clone(),
        );
        let frames = Arc::new(GenerationFrames::new(self.bounds));
        inner.streams.insert(
            meta.message_id.clone(),
            Stream {
                meta,
                frames: Arc::clone(&frames),
            },
        );
        Ok(frames)
    }

    fn find(&self, scope: &Scope, target: ResumeTarget<'_>) -> Lookup {
        let inner = self.lock();
        let message_id = match target {
            ResumeTarget::MessageId(id) => Some(id),
            ResumeTarget::ClientMessageId(id) => inner
                .by_client
                .get(&(scope.clone(), id.to_owned()))
                .map(String::as_str),
            ResumeTarget::Conversation(id) => inner
                .by_conversation
                .get(&(scope.clone(), id.to_owned()))
                .map(String::as_str),
        };
        let Some(stream) = message_id.and_then(|id| inner.streams.get(id)) else {
            return Lookup::Unknown;
        };
        if stream.meta.scope != *scope {
            return Lookup::Unknown;
        }
        match stream.frames.progress() {
            Some(progress) => Lookup::Live {
                meta: stream.meta.clone(),
                first_kept: progress.first_kept,
                last_offset: progress.last_offset,
                finished: progress.finished,
            },
            None => Lookup::Expired(stream.meta.clone()),
        }
    }

    fn expire(&self, message_id: &str) {
        let mut inner = self.lock();
        let Some(stream) = inner.streams.get_mut(message_id) else {
            return;
        };
        if !stream.frames.expire() {
            return;
        }
        inner.expired.push_back(message_id.to_owned());
        while inner.expired.len() > self.max_expired {
            if let Some(oldest) = inner.expired.pop_front() {
                inner.forget(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::task::Poll;

    use super::*;
    use crate::auth::TokenId;
    use crate::registry::buffer::StoredFrame;
    use crate::registry::frames::Next;

    fn scope(owner: u32) -> Scope {
        Scope {
            owner: TokenId(owner),
            session_id: "s".into(),
        }
    }

    fn meta(owner: u32, id: &str, client: Option<&str>, conversation: &str) -> StreamMeta {
        StreamMeta {
            scope: scope(owner),
            message_id: id.into(),
            client_message_id: client.map(Into::into),
            conversation_id: conversation.into(),
        }
    }

    #[test]
    fn generations_are_found_by_each_id_only_in_their_scope() {
        let store = MemoryStore::new(BufferBounds::default(), 10);
        let frames = store.open(meta(1, "m1", Some("c1"), "conv")).unwrap();
        frames.append(StoredFrame::numbered(1, false));
        for target in [
            ResumeTarget::MessageId("m1"),
            ResumeTarget::ClientMessageId("c1"),
            ResumeTarget::Conversation("conv"),
        ] {
            assert!(
                matches!(
                    store.find(&scope(1), target),
                    Lookup::Live {
                        last_offset: 1,
                        finished: false,
                        ..
                    }
                ),
                "{target:?}"
            );
            assert_eq!(store.find(&scope(2), target), Lookup::Unknown, "{target:?}");
        }
        assert_eq!(
            store.find(&scope(1), ResumeTarget::ClientMessageId("c2")),
            Lookup::Unknown
        );
        // The client id is taken for this scope only.
        assert!(matches!(
            store.open(meta(1, "m2", Some("c1"), "other")),
            Err(ClientIdTaken)
        ));
        assert!(store.open(meta(2, "m3", Some("c1"), "conv")).is_ok());
    }

    #[test]
    fn expiry_drops_the_frames_and_keeps_the_ids() {
        let store = MemoryStore::new(BufferBounds::default(), 10);
        let frames = store.open(meta(0, "m", None, "conv")).unwrap();
        frames.append(StoredFrame::numbered(1, false));
        assert_eq!(store.kept(), (1, "frame 1".len()));
        store.expire("m");
        assert_eq!(frames.look_after(0), Poll::Ready(Next::Gone));
        assert!(matches!(
            store.find(&scope(0), ResumeTarget::MessageId("m")),
            Lookup::Expired(_)
        ));
        assert_eq!(store.kept(), (0, 0));
    }

    #[test]
    fn only_the_newest_expired_generations_are_remembered() {
        let store = MemoryStore::new(BufferBounds::default(), 2);
        for i in 0..3 {
            let id = format!("m{i}");
            store
                .open(meta(0, &id, Some(&format!("c{i}")), &format!("conv{i}")))
                .unwrap();
            store.expire(&id);
        }
        assert_eq!(
            store.find(&scope(0), ResumeTarget::MessageId("m0")),
            Lookup::Unknown
        );
        assert_eq!(
            store.find(&scope(0), ResumeTarget::ClientMessageId("c0")),
            Lookup::Unknown
        );
        assert!(matches!(
            store.find(&scope(0), ResumeTarget::ClientMessageId("c2")),
            Lookup::Expired(_)
        ));
        // A forgotten client id may be used again.
        assert!(store.open(meta(0, "m9", Some("c0"), "conv0")).is_ok());
    }

    #[test]
    fn a_lookup_reports_what_the_bounds_kept() {
        let store = MemoryStore::new(
            BufferBounds {
                max_frames: 2,
                max_bytes: 1_000,
            },
            10,
        );
        let frames = store.open(meta(0, "m", None, "conv")).unwrap();
        for offset in 1..=4 {
            frames.append(StoredFrame::numbered(offset, false));
        }
        assert!(matches!(
            store.find(&scope(0), ResumeTarget::MessageId("m")),
            Lookup::Live {
                first_kept: 3,
                last_offset: 4,
                ..
            }
        ));
    }
}
