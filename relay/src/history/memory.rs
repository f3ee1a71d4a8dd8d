//! The in-process [`HistoryBackend`]: every conversation in one map behind a mutex (held only
//! for map operations, never across an await), at most `max_conversations` of them, the least
//! recently used idle one forgotten first. The default when `RELAY_REDIS_URL` is unset.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::{self, BoxFuture, FutureExt};

use super::{
    trim, AcceptError, BeginError, Begun, ConversationKey, HistoryBackend, HistoryLimits, Lease,
    Role, Turn,
};
use crate::registry::StreamMeta;

#[derive(Default)]
struct Conversation {
    turns: VecDeque<Turn>,
    chars: usize,
    busy: bool,
    last_used: u64,
}

#[derive(Default)]
struct Inner {
    conversations: HashMap<ConversationKey, Conversation>,
    clock: u64,
}

/// Conversations kept in this process's memory; cheap to clone.
#[derive(Clone, Default)]
pub struct MemoryHistory {
    inner: Arc<Mutex<Inner>>,
    limits: HistoryLimits,
}

impl MemoryHistory {
    /// An empty store with these bounds.
    pub fn new(limits: HistoryLimits) -> MemoryHistory {
        MemoryHistory {
            inner: Arc::default(),
            limits,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the conversation busy and returns its history so far.
    pub fn begin_now(&self, key: ConversationKey) -> Result<(MemoryLease, Vec<Turn>), BeginError> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        if !inner.conversations.contains_key(&key)
            && inner.conversations.len() >= self.limits.max_conversations
        {
            let oldest = inner
                .conversations
                .iter()
                .filter(|(_, c)| !c.busy)
                .min_by_key(|(_, c)| c.last_used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                inner.conversations.remove(&oldest);
            }
        }
        let conversation = inner.conversations.entry(key.clone()).or_default();
        if conversation.busy {
            return Err(BeginError::Busy);
        }
        conversation.busy = true;
        conversation.last_used = now;
        let turns = conversation.turns.iter().cloned().collect();
        Ok((
            MemoryLease {
                store: self.clone(),
                key: Some(key),
            },
            turns,
        ))
    }

    /// The stored turns of a conversation.
    pub fn turns_now(&self, key: &ConversationKey) -> Vec<Turn> {
        self.lock()
            .conversations
            .get(key)
            .map(|c| c.turns.iter().cloned().collect())
            .unwrap_or_default()
    }
}

impl HistoryBackend for MemoryHistory {
    fn begin<'a>(
        &'a self,
        key: &'a ConversationKey,
        _holder: &'a str,
    ) -> BoxFuture<'a, Result<Begun, BeginError>> {
        let begun = self
            .begin_now(key.clone())
            .map(|(lease, turns)| (Box::new(lease) as Box<dyn Lease>, turns));
        future::ready(begun).boxed()
    }

    fn accept_client_id<'a>(
        &'a self,
        _meta: &'a StreamMeta,
    ) -> BoxFuture<'a, Result<(), AcceptError>> {
        future::ready(Ok(())).boxed()
    }

    fn turns<'a>(
        &'a self,
        key: &'a ConversationKey,
    ) -> BoxFuture<'a, Result<Vec<Turn>, BeginError>> {
        future::ready(Ok(self.turns_now(key))).boxed()
    }
}

/// Holds a conversation of a [`MemoryHistory`] busy; dropping it releases the conversation.
pub struct MemoryLease {
    store: MemoryHistory,
    key: Option<ConversationKey>,
}

impl MemoryLease {
    /// Records a finished exchange and releases the conversation.
    pub fn commit_now(mut self, user: String, assistant: String) {
        if let Some(key) = self.key.take() {
            let limits = self.store.limits;
            let mut inner = self.store.lock();
            if let Some(c) = inner.conversations.get_mut(&key) {
                c.chars += user.chars().count() + assistant.chars().count();
                c.turns.push_back(Turn {
                    role: Role::User,
                    content: user,
                });
                c.turns.push_back(Turn {
                    role: Role::Assistant,
                    content: assistant,
                });
                trim(&mut c.turns, &mut c.chars, &limits);
                c.busy = false;
            }
        }
    }
}

impl Lease for MemoryLease {
    fn commit(self: Box<Self>, user: String, assistant: String) -> BoxFuture<'static, ()> {
        self.commit_now(user, assistant);
        future::ready(()).boxed()
    }

    fn release(self: Box<Self>) -> BoxFuture<'static, ()> {
        drop(self);
        future::ready(()).boxed()
    }
}

impl Drop for MemoryLease {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let mut inner = self.store.lock();
            if let Some(c) = inner.conversations.get_mut(&key) {
                c.busy = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenId;

    fn key(c: &str) -> ConversationKey {
        ConversationKey {
            owner: TokenId(0),
            session_id: "s".into(),
            conversation_id: c.into(),
        }
    }

    #[test]
    fn one_generation_per_conversation() {
        let store = MemoryHistory::default();
        let (guard, turns) = store.begin_now(key("a")).unwrap();
        assert!(turns.is_empty());
        assert_eq!(store.begin_now(key("a")).err(), Some(BeginError::Busy));
        assert!(store.begin_now(key("b")).is_ok());
        drop(guard);
        assert!(store.begin_now(key("a")).is_ok());
    }

    #[test]
    fn committed_turns_are_returned_next_time_and_abandoned_ones_are_not() {
        let store = MemoryHistory::default();
        let (guard, _) = store.begin_now(key("a")).unwrap();
        guard.commit_now("hi".into(), "hello".into());
        let (guard, turns) = store.begin_now(key("a")).unwrap();
        assert_eq!(turns.len(), 2);
        assert_eq!(turns[0].role, Role::User);
        assert_eq!(turns[1].content, "hello");
        drop(guard);
        assert_eq!(store.turns_now(&key("a")).len(), 2);
    }

    #[test]
    fn oldest_exchanges_are_dropped_first() {
        let store = MemoryHistory::new(HistoryLimits {
            max_messages: 4,
            max_chars: 1_000,
            max_conversations: 10,
            ..HistoryLimits::default()
        });
        for i in 0..3 {
            let (g, _) = store.begin_now(key("a")).unwrap();
            g.commit_now(format!("q{i}"), format!("a{i}"));
        }
        let contents: Vec<_> = store
            .turns_now(&key("a"))
            .into_iter()
            .map(|t| t.content)
            .collect();
        assert_eq!(contents, ["q1", "a1", "q2", "a2"]);

        let store = MemoryHistory::new(HistoryLimits {
            max_messages: 100,
            max_chars: 10,
            max_conversations: 10,
            ..HistoryLimits::default()
        });
        let (g, _) = store.begin_now(key("a")).unwrap();
        g.commit_now("12345".into(), "1234".into());
        let (g, _) = store.begin_now(key("a")).unwrap();
        g.commit_now("abc".into(), "de".into());
        let contents: Vec<_> = store
            .turns_now(&key("a"))
            .into_iter()
            .map(|t| t.content)
            .collect();
        assert_eq!(contents, ["abc", "de"]);
    }

    #[test]
    fn least_recently_used_idle_conversation_is_forgotten() {
        let store = MemoryHistory::new(HistoryLimits {
            max_messages: 10,
            max_chars: 100,
            max_conversations: 2,
            ..HistoryLimits::default()
        });
        for c in ["a", "b"] {
            let (g, _) = store.begin_now(key(c)).unwrap();
            g.commit_now("q".into(), "a".into());
        }
        let (g, _) = store.begin_now(key("a")).unwrap();
        drop(g);
        let (_g, _) = store.begin_now(key("c")).unwrap();
        assert_eq!(store.turns_now(&key("a")).len(), 2);
        assert!(store.turns_now(&key("b")).is_empty());
    }
}
