//! The state shared by every request and connection.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::history::redis::RedisHistory;
use crate::history::ConversationStore;
use crate::metrics::Metrics;
use crate::provider::Provider;
use crate::redact::Redactor;
use crate::registry::{CancelBus, RedisFrames, Registry};

/// Cheap to clone; derefs to [`Shared`].
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

/// What every connection shares.
pub struct Shared {
    /// The validated configuration.
    pub config: Config,
    /// Where replies come from.
    pub provider: Provider,
    /// Conversation memory (and the one-generation-per-conversation rule).
    pub store: ConversationStore,
    /// Every running generation and the frames kept for resumes.
    pub registry: Registry,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The global cap on concurrent upstream requests (`RELAY_MAX_UPSTREAM`).
    pub upstream_slots: Arc<Semaphore>,
    /// Cancelled when the relay starts shutting down.
    pub shutdown: CancellationToken,
    /// Tracks open sockets so shutdown can wait for them.
    pub sockets: TaskTracker,
    /// Masks secrets in log output.
    pub redactor: Redactor,
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.inner
    }
}

impl AppState {
    /// Builds the state; with an API key and no model this asks upstream for its models.
    pub async fn new(config: Config) -> AppState {
        let redactor = Redactor::new(
            config.upstream.api_key.iter().cloned().chain(
                config
                    .tokens
                    .secrets()
                    .map(|t| String::from_utf8_lossy(t).into_owned()),
            ),
        );
        let metrics = Arc::new(Metrics::default());
        let provider =
            Provider::start(&config.upstream, redactor.clone(), Arc::clone(&metrics)).await;
        AppState {
            inner: Arc::new(Shared {
                store: match &config.redis {
                    Some(redis) => ConversationStore::with_backend(Arc::new(RedisHistory::new(
                        redis.clone(),
                        config.history,
                        config.redis_lease,
                    ))),
                    None => ConversationStore::new(config.history),
                },
                registry: match &config.redis {
                    Some(redis) => {
                        let frames =
                            RedisFrames::new(redis.clone(), config.resume, config.redis_lease);
                        // A cancel flag lasts as long as the frames of the generation it stops.
                        let cancels = CancelBus::new(
                            redis.clone(),
                            (config.redis_lease / 3).min(Duration::from_secs(2)),
                            frames.ttl(),
                        );
                        Registry::shared(config.resume, frames, cancels)
                    }
                    None => Registry::in_memory(config.resume),
                },
                upstream_slots: Arc::new(Semaphore::new(config.max_upstream)),
                provider,
                metrics,
                shutdown: CancellationToken::new(),
                sockets: TaskTracker::new(),
                redactor,
                config,
            }),
        }
    }
}
