//! Conversation memory: the turns of each `(token, session_id, conversation_id)`, bounded.
//!
//! Each conversation keeps its last turns so follow-up questions have context, trimmed oldest
//! exchange first when it exceeds [`HistoryLimits`]. Only the visible answer is stored; the
//! model's reasoning is never kept, so it is never sent back upstream. The store also enforces
//! one generation per conversation: [`ConversationStore::begin`] fails with
//! [`BeginError::Busy`] while another generation of the same conversation holds its
//! [`TurnGuard`] (its lease).
//!
//! Handlers see [`ConversationStore`]; behind it a [`HistoryBackend`] keeps the state, in
//! this process ([`memory`], the default) or in Redis ([`redis`], shared by several relay
//! instances, `RELAY_REDIS_URL`).

pub mod memory;
pub mod redis;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::auth::TokenId;
use crate::registry::StreamMeta;

/// Bounds on what the relay remembers.
#[derive(Debug, Clone, Copy)]
pub struct HistoryLimits {
    /// Most messages (user + assistant) kept per conversation.
    pub max_messages: usize,
    /// Most characters kept per conversation.
    pub max_chars: usize,
    /// Most conversations kept in memory; the least recently used idle one is forgotten
    /// first. (Redis forgets by [`HistoryLimits::idle_ttl`] instead.)
    pub max_conversations: usize,
    /// How long Redis keeps a conversation nobody writes to (`RELAY_HISTORY_TTL_SECS`).
    pub idle_ttl: Duration,
}

impl Default for HistoryLimits {
    fn default() -> Self {
        HistoryLimits {
            max_messages: 40,
            max_chars: 48_000,
            max_conversations: 10_000,
            idle_ttl: Duration::from_secs(30 * 24 * 3600),
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

/// Why a generation of a conversation could not begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BeginError {
    /// The conversation already has a generation in flight (on this or another instance).
    #[error("conversation busy")]
    Busy,
    /// The shared store (Redis) cannot be reached; retry later.
    #[error("conversation store unavailable")]
    Unavailable,
}

/// Why a `client_message_id` could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// Another generation (possibly on another instance) already took it.
    #[error("client_message_id already accepted")]
    Taken(StreamMeta),
    /// The shared store (Redis) cannot be reached; retry later.
    #[error("conversation store unavailable")]
    Unavailable,
}

/// Drops the oldest exchanges until `turns` fits `limits`; `chars` is their character count.
fn trim(turns: &mut VecDeque<Turn>, chars: &mut usize, limits: &HistoryLimits) {
    while turns.len() > limits.max_messages || *chars > limits.max_chars {
        let Some(dropped) = turns.pop_front() else {
            break;
        };
        *chars -= dropped.content.chars().count();
        // Keep the history starting with a user turn: drop the orphaned answer too.
        while turns.front().is_some_and(|t| t.role == Role::Assistant) {
            if let Some(answer) = turns.pop_front() {
                *chars -= answer.content.chars().count();
            }
        }
    }
}

/// `turns` followed by one exchange, trimmed to `limits`.
pub fn with_exchange(
    turns: impl IntoIterator<Item = Turn>,
    user: String,
    assistant: String,
    limits: &HistoryLimits,
) -> VecDeque<Turn> {
    let mut turns: VecDeque<Turn> = turns.into_iter().collect();
    turns.push_back(Turn {
        role: Role::User,
        content: user,
    });
    turns.push_back(Turn {
        role: Role::Assistant,
        content: assistant,
    });
    let mut chars = turns.iter().map(|t| t.content.chars().count()).sum();
    trim(&mut turns, &mut chars, limits);
    turns
}

/// A conversation's lease, and its turns so far.
pub type Begun = (Box<dyn Lease>, Vec<Turn>);

/// Where conversations live. Object-safe (boxed futures) so the store can pick its backend
/// at start-up.
pub trait HistoryBackend: Send + Sync + 'static {
    /// Takes the conversation's lease for `holder` (a unique id of the generation) and
    /// returns its turns so far.
    fn begin<'a>(
        &'a self,
        key: &'a ConversationKey,
        holder: &'a str,
    ) -> BoxFuture<'a, Result<Begun, BeginError>>;
    /// Records that `meta.client_message_id` started `meta`'s generation, unless another
    /// generation of the scope already took it. The in-memory backend accepts everything:
    /// there the registry's own store keeps the ids.
    fn accept_client_id<'a>(
        &'a self,
        meta: &'a StreamMeta,
    ) -> BoxFuture<'a, Result<(), AcceptError>>;
    /// The stored turns of a conversation (tests and diagnostics).
    fn turns<'a>(
        &'a self,
        key: &'a ConversationKey,
    ) -> BoxFuture<'a, Result<Vec<Turn>, BeginError>>;
}

/// A conversation held busy by one generation.
pub trait Lease: Send + 'static {
    /// Records a finished exchange and releases the conversation.
    fn commit(self: Box<Self>, user: String, assistant: String) -> BoxFuture<'static, ()>;
    /// Releases the conversation, recording nothing.
    fn release(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// All conversations' memory, shared by every connection; cheap to clone.
#[derive(Clone)]
pub struct ConversationStore {
    backend: Arc<dyn HistoryBackend>,
}

impl Default for ConversationStore {
    fn default() -> Self {
        ConversationStore::new(HistoryLimits::default())
    }
}

impl ConversationStore {
    /// An empty in-memory store with these bounds.
    pub fn new(limits: HistoryLimits) -> ConversationStore {
        ConversationStore::with_backend(Arc::new(memory::MemoryHistory::new(limits)))
    }

    /// A store over `backend`.
    pub fn with_backend(backend: Arc<dyn HistoryBackend>) -> ConversationStore {
        ConversationStore { backend }
    }

    /// Marks the conversation busy for `holder` and returns its history so far.
    pub async fn begin(
        &self,
        key: ConversationKey,
        holder: &str,
    ) -> Result<(TurnGuard, Vec<Turn>), BeginError> {
        let (lease, turns) = self.backend.begin(&key, holder).await?;
        Ok((TurnGuard { lease: Some(lease) }, turns))
    }

    /// See [`HistoryBackend::accept_client_id`].
    pub async fn accept_client_id(&self, meta: &StreamMeta) -> Result<(), AcceptError> {
        self.backend.accept_client_id(meta).await
    }

    /// The stored turns of a conversation (tests and diagnostics).
    pub async fn turns(&self, key: &ConversationKey) -> Result<Vec<Turn>, BeginError> {
        self.backend.turns(key).await
    }
}

/// Holds a conversation busy; dropping it without [`TurnGuard::commit`] records nothing
/// (and releases the conversation).
pub struct TurnGuard {
    lease: Option<Box<dyn Lease>>,
}

impl TurnGuard {
    /// Records a finished exchange and releases the conversation.
    pub async fn commit(mut self, user: String, assistant: String) {
        if let Some(lease) = self.lease.take() {
            lease.commit(user, assistant).await;
        }
    }

    /// Releases the conversation now (dropping the guard releases it too, in the background).
    pub async fn release(mut self) {
        if let Some(lease) = self.lease.take() {
            lease.release().await;
        }
    }
}
