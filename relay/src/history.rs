//! Conversation memory: the turns of each `(token, session_id, conversation_id)`, bounded.
//!
//! Each conversation keeps its last turns so follow-up questions have context, trimmed oldest
//! exchange first when it exceeds [`HistoryLimits`]. Only the visible answer is stored; the
//! model's reasoning is never kept, so it is never sent back upstream. The store also enforces
//! one generation per conversation: [`ConversationStore::begin`] fails with [`Busy`] while
//! another generation of the same conversation holds its [`TurnGuard`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use crate::auth::TokenId;

/// Bounds on what the relay remembers.
#[derive(Debug, Clone, Copy)]
pub struct HistoryLimits {
    /// Most messages (user + assistant) kept per conversation.
    pub max_messages: usize,
    /// Most characters kept per conversation.
    pub max_chars: usize,
    /// Most conversations kept; the least recently used idle one is forgotten first.
    pub max_conversations: usize,
}

impl Default for HistoryLimits {
    fn default() -> Self {
        HistoryLimits {
            max_messages: 40,
            max_chars: 48_000,
            max_conversations: 10_000,
        }
    }
}

/// Who said a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The person typing.
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The OpenAI chat role name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// Who said it.
    pub role: Role,
    /// What was said (answer text only, never reasoning).
    pub content: String,
}

/// Identifies a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConversationKey {
    /// The token the socket authenticated with (0 for every token in dev mode).
    pub owner: TokenId,
    /// The session id from the socket path.
    pub session_id: String,
    /// The conversation id from the message (or assigned by the relay).
    pub conversation_id: String,
}

/// The conversation already has a generation in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("conversation busy")]
pub struct Busy;

#[derive(Default)]
struct Conversation {
    turns: VecDeque<Turn>,
    chars: usize,
    busy: bool,
    last_used: u64,
}

impl Conversation {
    fn trim(&mut self, limits: &HistoryLimits) {
        while self.turns.len() > limits.max_messages || self.chars > limits.max_chars {
            let Some(dropped) = self.turns.pop_front() else {
                break;
            };
            self.chars -= dropped.content.chars().count();
            // Keep the history starting with a user turn: drop the orphaned answer too.
            while self
                .turns
                .front()
                .is_some_and(|t| t.role == Role::Assistant)
            {
                if let Some(answer) = self.turns.pop_front() {
                    self.chars -= answer.content.chars().count();
                }
            }
        }
    }
}

#[derive(Default)]
struct Inner {
    conversations: HashMap<ConversationKey, Conversation>,
    clock: u64,
}

/// All conversations' memory, shared by every connection.
#[derive(Clone, Default)]
pub struct ConversationStore {
    inner: Arc<Mutex<Inner>>,
    limits: HistoryLimits,
}

impl ConversationStore {
    /// An empty store with these bounds.
    pub fn new(limits: HistoryLimits) -> ConversationStore {
        ConversationStore {
            inner: Arc::default(),
            limits,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the conversation busy and returns its history so far.
    pub fn begin(&self, key: ConversationKey) -> Result<(TurnGuard, Vec<Turn>), Busy> {
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
            return Err(Busy);
        }
        conversation.busy = true;
        conversation.last_used = now;
        let turns = conversation.turns.iter().cloned().collect();
        Ok((
            TurnGuard {
                store: self.clone(),
                key: Some(key),
            },
            turns,
        ))
    }

    /// The stored turns of a conversation (tests and diagnostics).
    pub fn turns(&self, key: &ConversationKey) -> Vec<Turn> {
        self.lock()
            .conversations
            .get(key)
            .map(|c| c.turns.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// Holds a conversation busy; dropping it without [`TurnGuard::commit`] records nothing.
pub struct TurnGuard {
    store: ConversationStore,
    key: Option<ConversationKey>,
}

impl TurnGuard {
    /// Records a finished exchange and releases the conversation.
    pub fn commit(mut self, user: String, assistant: String) {
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
                c.trim(&limits);
                c.busy = false;
            }
        }
    }
}

impl Drop for TurnGuard {
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

    fn key(c: &str) -> ConversationKey {
        ConversationKey {
            owner: TokenId(0),
            session_id: "s".into(),
            conversation_id: c.into(),
        }
    }

    #[test]
    fn one_generation_per_conversation() {
        let store = ConversationStore::default();
        let (guard, turns) = store.begin(key("a")).unwrap();
        assert!(turns.is_empty());
        assert_eq!(store.begin(key("a")).err(), Some(Busy));
        assert!(store.begin(key("b")).is_ok());
        drop(guard);
        assert!(store.begin(key("a")).is_ok());
    }

    #[test]
    fn committed_turns_are_returned_next_time_and_abandoned_ones_are_not() {
        let store = ConversationStore::default();
        let (guard, _) = store.begin(key("a")).unwrap();
        guard.commit("hi".into(), "hello".into());
        let (guard, turns) = store.begin(key("a")).unwrap();
        assert_eq!(turns.len(), 2);
        assert_eq!(turns[0].role, Role::User);
        assert_eq!(turns[1].content, "hello");
        drop(guard);
        assert_eq!(store.turns(&key("a")).len(), 2);
    }

    #[test]
    fn oldest_exchanges_are_dropped_first() {
        let store = ConversationStore::new(HistoryLimits {
            max_messages: 4,
            max_chars: 1_000,
            max_conversations: 10,
        });
        for i in 0..3 {
            let (g, _) = store.begin(key("a")).unwrap();
            g.commit(format!("q{i}"), format!("a{i}"));
        }
        let contents: Vec<_> = store
            .turns(&key("a"))
            .into_iter()
            .map(|t| t.content)
            .collect();
        assert_eq!(contents, ["q1", "a1", "q2", "a2"]);

        let store = ConversationStore::new(HistoryLimits {
            max_messages: 100,
            max_chars: 10,
            max_conversations: 10,
        });
        let (g, _) = store.begin(key("a")).unwrap();
        g.commit("12345".into(), "1234".into());
        let (g, _) = store.begin(key("a")).unwrap();
        g.commit("abc".into(), "de".into());
        let contents: Vec<_> = store
            .turns(&key("a"))
            .into_iter()
            .map(|t| t.content)
            .collect();
        assert_eq!(contents, ["abc", "de"]);
    }

    #[test]
    fn least_recently_used_idle_conversation_is_forgotten() {
        let store = ConversationStore::new(HistoryLimits {
            max_messages: 10,
            max_chars: 100,
            max_conversations: 2,
        });
        for c in ["a", "b"] {
            let (g, _) = store.begin(key(c)).unwrap();
            g.commit("q".into(), "a".into());
        }
        let (g, _) = store.begin(key("a")).unwrap();
        drop(g);
        let (_g, _) = store.begin(key("c")).unwrap();
        assert_eq!(store.turns(&key("a")).len(), 2);
        assert!(store.turns(&key("b")).is_empty());
    }
}
