//! The generation registry: owns every running generation (not the socket that started it),
//! keeps its frames for resumes, and lets sockets watch it.
//!
//! A generation is a task of its own. It writes its frames through a [`Publisher`] into its
//! [`GenerationFrames`] (the [`StreamStore`] keeps the ids it is found by), and obeys a
//! [`Control`] (stop, and since when nobody watches). Sockets attach with
//! [`Registry::watch`]: a stream of the frames after an offset, then the live ones, which the
//! socket polls when it can write. When the last watcher leaves, the generation keeps running
//! and buffering for the resume grace; after it the upstream request is dropped. (With Redis,
//! a socket following it from another instance counts as a watcher too:
//! `registry/redis_followers.rs`.) A finished generation's frames stay for the same grace
//! after its last watcher left, then only its ids are remembered (`stream_expired`).
//!
//! Handlers see this registry, never the backend: [`MemoryStore`] finds this process's
//! generations; with Redis, [`RedisFrames`] mirrors their frames there and follows other
//! instances' generations.

pub mod buffer;
pub mod frames;
pub mod local;
pub mod memory;
pub mod redis_cancel;
pub mod redis_followers;
pub mod redis_stream;
pub mod resume;
pub mod store;
pub mod watch;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use futures_util::stream::BoxStream;
use tokio::sync::watch as tokio_watch;

pub use buffer::{BufferBounds, StoredFrame};
pub use frames::GenerationFrames;
pub use local::{Control, Local};
pub use memory::MemoryStore;
pub use redis_cancel::CancelBus;
pub use redis_followers::{Followed, RemoteFollowers};
pub use redis_stream::RedisFrames;
pub use resume::Decision;
pub use store::{ClientIdTaken, Lookup, Scope, StreamMeta, StreamStore};

use crate::error::ErrorCode;
use crate::protocol::ResumeTarget;

/// Resume settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumeConfig {
    /// How long a generation nobody watches keeps running (and a finished one keeps its
    /// frames) before it is dropped (`RELAY_RESUME_GRACE_MS`).
    pub grace: Duration,
    /// Bounds of each generation's frame buffer.
    pub bounds: BufferBounds,
}

impl Default for ResumeConfig {
    fn default() -> Self {
        ResumeConfig {
            grace: Duration::from_secs(30),
            bounds: BufferBounds::default(),
        }
    }
}

/// Cheap to clone; shared by every socket.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn StreamStore>,
    running: Mutex<HashMap<String, Arc<Local>>>,
    grace: Duration,
    /// With `RELAY_REDIS_URL`: where every generation's frames are mirrored, and where a
    /// resume of a generation another instance runs reads them.
    shared: Option<RedisFrames>,
    /// With `RELAY_REDIS_URL`: cancels between instances.
    cancels: Option<Arc<CancelBus>>,
}

impl Registry {
    /// A registry over `store`.
    pub fn new(store: Arc<dyn StreamStore>, grace: Duration) -> Registry {
        Registry {
            inner: Arc::new(Inner {
                store,
                running: Mutex::default(),
                grace,
                shared: None,
                cancels: None,
            }),
        }
    }

    /// A registry over a fresh [`MemoryStore`] whose frames are also mirrored to Redis, so
    /// other instances can resume (and cancel) this one's generations, and this one theirs.
    pub fn shared(config: ResumeConfig, frames: RedisFrames, cancels: CancelBus) -> Registry {
        Registry {
            inner: Arc::new(Inner {
                store: Arc::new(MemoryStore::new(config.bounds, memory::DEFAULT_MAX_EXPIRED)),
                running: Mutex::default(),
                grace: config.grace,
                shared: Some(frames),
                cancels: Some(Arc::new(cancels)),
            }),
        }
    }

    /// A registry over a fresh [`MemoryStore`].
    pub fn in_memory(config: ResumeConfig) -> Registry {
        Registry::new(
            Arc::new(MemoryStore::new(config.bounds, memory::DEFAULT_MAX_EXPIRED)),
            config.grace,
        )
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Local>>> {
        self.inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn local(&self, message_id: &str) -> Option<Arc<Local>> {
        self.running().get(message_id).cloned()
    }

    /// The resume grace.
    pub fn grace(&self) -> Duration {
        self.inner.grace
    }

    /// What a resume of `target` from `offset` gets, for a socket of `scope`.
    pub fn decide(&self, scope: &Scope, target: ResumeTarget<'_>, offset: u64) -> Decision {
        resume::decide(target, self.inner.store.find(scope, target), offset)
    }

    /// [`Registry::decide`], and for a generation this process does not know, what the
    /// shared store (Redis) knows of it: another instance may run it. By conversation, the
    /// shared store is asked unless this process runs the conversation's reply: what it
    /// knows may be an earlier turn, answered here, while the current one runs elsewhere.
    pub async fn decide_shared(
        &self,
        scope: &Scope,
        target: ResumeTarget<'_>,
        offset: u64,
    ) -> Decision {
        let local = self.inner.store.find(scope, target);
        let running_here = matches!(
            local,
            Lookup::Live {
                finished: false,
                ..
            }
        );
        let ask_shared = match target {
            ResumeTarget::Conversation(_) => !running_here,
            _ => local == Lookup::Unknown,
        };
        let lookup = match &self.inner.shared {
            Some(shared) if ask_shared => match shared.find(scope, target).await {
                // Redis knows of no running reply either: what this process knows stands.
                Lookup::Unknown => local,
                found => found,
            },
            _ => local,
        };
        resume::decide(target, lookup, offset)
    }

    /// Registers a generation and spawns its task, built by `task` from the publisher its
    /// frames go through and the control it obeys; returns the starting socket's watcher
    /// (attached before the task runs, so even a zero grace cannot abandon it unseen).
    /// Refused when the client id is taken. When the task returns, the generation's frames
    /// are dropped (its ids are remembered).
    pub fn start<F, Fut>(
        &self,
        meta: StreamMeta,
        task: F,
    ) -> Result<BoxStream<'static, Utf8Bytes>, ClientIdTaken>
    where
        F: FnOnce(Publisher, tokio_watch::Receiver<Control>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let message_id = meta.message_id.clone();
        let frames = self.inner.store.open(meta.clone())?;
        let (local, control) = Local::new(frames);
        let local = Arc::new(local);
        self.running()
            .insert(message_id.clone(), Arc::clone(&local));
        let watcher = watch_local(Arc::clone(&local), &meta, 0);
        let publisher = Publisher {
            local: Arc::clone(&local),
            message_id: message_id.clone(),
            mirror: self
                .inner
                .shared
                .as_ref()
                .map(|shared| shared.writer(&meta)),
            followers: self
                .inner
                .shared
                .as_ref()
                .map(|shared| shared.followers(&meta)),
        };
        let cancel_watch = self.inner.cancels.as_ref().map(|cancels| {
            let local = Arc::clone(&local);
            cancels.watch(&meta, move || local.stop(ErrorCode::Cancelled))
        });
        let generation = task(publisher, control);
        let registry = self.clone();
        tokio::spawn(async move {
            generation.await;
            if let Some(cancel_watch) = cancel_watch {
                cancel_watch.abort();
            }
            registry.inner.store.expire(&message_id);
            registry.running().remove(&message_id);
        });
        Ok(watcher)
    }

    /// Attaches a watcher that has applied `offset`: a stream of the frames after it, then
    /// the live ones, until the terminal frame. `None` when the generation is no longer kept
    /// (here, or with Redis, anywhere: then the frames come from Redis).
    pub fn watch(&self, meta: &StreamMeta, offset: u64) -> Option<BoxStream<'static, Utf8Bytes>> {
        match (self.local(&meta.message_id), &self.inner.shared) {
            (Some(local), _) => Some(watch_local(local, meta, offset)),
            (None, Some(shared)) => Some(shared.follow(meta.clone(), offset)),
            (None, None) => None,
        }
    }

    /// Tells a running generation to end with `reason` (no-op if it already ended).
    pub fn stop(&self, message_id: &str, reason: ErrorCode) {
        if let Some(local) = self.local(message_id) {
            local.stop(reason);
        }
    }

    /// A watcher says "I am gone" (close 1000): the generation stops at once unless another
    /// socket watches it too.
    pub fn release(&self, message_id: &str) {
        if let Some(local) = self.local(message_id) {
            if local.watchers() <= 1 {
                local.stop(ErrorCode::Cancelled);
            }
        }
    }

    /// Cancels the generation `id` names (its `message_id` or `client_message_id`) in
    /// `scope`. Returns whether a kept generation was found.
    pub fn cancel(&self, scope: &Scope, id: &str) -> bool {
        let found = [
            ResumeTarget::MessageId(id),
            ResumeTarget::ClientMessageId(id),
        ]
        .into_iter()
        .find_map(|target| match self.inner.store.find(scope, target) {
            Lookup::Live { meta, .. } => Some(meta.message_id),
            _ => None,
        });
        match found {
            Some(message_id) => {
                self.stop(&message_id, ErrorCode::Cancelled);
                true
            }
            None => false,
        }
    }

    /// [`Registry::cancel`], and with Redis, for a generation another instance runs: sets
    /// its cancel flag there and wakes that instance. Returns whether one was found.
    pub async fn cancel_shared(&self, scope: &Scope, id: &str) -> bool {
        if self.cancel(scope, id) {
            return true;
        }
        let (Some(shared), Some(cancels)) = (&self.inner.shared, &self.inner.cancels) else {
            return false;
        };
        for target in [
            ResumeTarget::MessageId(id),
            ResumeTarget::ClientMessageId(id),
        ] {
            if let Lookup::Live {
                meta,
                finished: false,
                ..
            } = shared.find(scope, target).await
            {
                return match cancels.request(&meta).await {
                    Ok(()) => true,
                    Err(error) => {
                        tracing::warn!(%error, message_id = %meta.message_id, "Redis unavailable: cancel not passed on");
                        false
                    }
                };
            }
        }
        false
    }

    /// Stops every running generation (the relay is stopping).
    pub fn stop_all(&self, reason: ErrorCode) {
        let all: Vec<_> = self.running().values().cloned().collect();
        for local in all {
            local.stop(reason);
        }
    }

    /// Whether generations are shared through Redis (`RELAY_REDIS_URL`).
    pub fn is_shared(&self) -> bool {
        self.inner.shared.is_some()
    }

    /// With Redis: waits (at most `timeout`) until every frame is written there.
    pub async fn flush_shared(&self, timeout: Duration) {
        if let Some(shared) = &self.inner.shared {
            shared.flush(timeout).await;
        }
    }

    /// Generations this process runs or keeps frames of.
    pub fn kept(&self) -> usize {
        self.running().len()
    }
}

fn watch_local(local: Arc<Local>, meta: &StreamMeta, offset: u64) -> BoxStream<'static, Utf8Bytes> {
    watch::follow(
        watch::WatchGuard::attach(local, offset),
        meta.message_id.clone(),
        meta.client_message_id.clone(),
    )
}

/// Where a generation writes its frames.
pub struct Publisher {
    local: Arc<Local>,
    message_id: String,
    /// With Redis: the writer mirroring the frames there.
    mirror: Option<redis_stream::Mirror>,
    /// With Redis: who follows the generation from other instances.
    followers: Option<RemoteFollowers>,
}

impl Publisher {
    /// Appends a frame. A non-terminal frame first waits while a watcher is half a buffer
    /// behind: a slow browser slows the upstream read instead of losing frames.
    pub async fn publish(&self, frame: StoredFrame) {
        if !frame.terminal {
            self.local.room(frame.offset).await;
        }
        let mirrored = self.mirror.as_ref().map(|mirror| (mirror, frame.clone()));
        self.local.frames().append(frame);
        if let Some((mirror, frame)) = mirrored {
            mirror.send(frame);
        }
    }

    /// Who follows the generation from other instances (with Redis).
    pub fn remote_followers(&self) -> Option<RemoteFollowers> {
        self.followers.clone()
    }

    /// The generation's id.
    pub fn message_id(&self) -> &str {
        &self.message_id
    }
}
