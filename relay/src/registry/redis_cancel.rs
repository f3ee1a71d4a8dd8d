//! Cancel from any instance (`RELAY_REDIS_URL`): a `cancel` that reaches an instance not
//! running the generation sets a flag in Redis and publishes the generation's id; the
//! running instance stops it.
//!
//! The flag is the state, pub/sub only the wake-up: the running instance also reads the
//! flag every poll interval, so a lost message (a reconnecting subscriber, a network blip)
//! delays a cancel, never loses it.
//!
//! Key: `chatwire:{conv:<owner>:<session>:<conversation>}:cancel:<message_id>`, with the
//! frames' TTL. Channel: `chatwire:cancel`, payload the `message_id`.

use std::sync::{Arc, Once};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::redis_stream::generation_key;
use super::store::StreamMeta;
use crate::redis_conn::{ttl_millis, Redis, RedisUnavailable};

/// The pub/sub channel cancels are announced on.
pub const CHANNEL: &str = "chatwire:cancel";
/// Pause before the subscriber reconnects.
const RESUBSCRIBE: Duration = Duration::from_millis(500);

fn cancel_key(meta: &StreamMeta) -> String {
    generation_key(meta, "cancel")
}

/// This process's side of the cancel flags: one subscriber for the whole process, fanned
/// out to each running generation's watcher.
pub struct CancelBus {
    redis: Redis,
    wake: broadcast::Sender<String>,
    started: Once,
    /// How often a running generation reads its flag without a wake-up.
    poll: Duration,
    /// How long a flag stays.
    ttl: Duration,
}

impl CancelBus {
    /// A bus over `redis`; generations read their flag every `poll`, flags last `ttl`.
    pub fn new(redis: Redis, poll: Duration, ttl: Duration) -> CancelBus {
        CancelBus {
            redis,
            wake: broadcast::channel(1_024).0,
            started: Once::new(),
            poll,
            ttl,
        }
    }

    /// Asks the instance running `meta`'s generation to stop it.
    pub async fn request(&self, meta: &StreamMeta) -> Result<(), RedisUnavailable> {
        let mut conn = self.redis.connection().await?;
        let ttl_ms = ttl_millis(self.ttl);
        redis::pipe()
            .cmd("SET")
            .arg(cancel_key(meta))
            .arg("cancelled")
            .arg("PX")
            .arg(ttl_ms)
            .ignore()
            .cmd("PUBLISH")
            .arg(CHANNEL)
            .arg(&meta.message_id)
            .ignore()
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Watches `meta`'s flag while its generation runs here; calls `stop` once it is set.
    /// Abort the returned task when the generation ends.
    pub fn watch(
        self: &Arc<Self>,
        meta: &StreamMeta,
        stop: impl FnOnce() + Send + 'static,
    ) -> JoinHandle<()> {
        self.started.call_once(|| {
            tokio::spawn(listen(self.redis.clone(), self.wake.clone()));
        });
        let mut wake = self.wake.subscribe();
        let key = cancel_key(meta);
        let message_id = meta.message_id.clone();
        let bus = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    woken = wake.recv() => match woken {
                        Ok(id) if id != message_id => continue,
                        // Ours, or some wake-ups were missed: read the flag.
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => {
                            tokio::time::sleep(bus.poll).await;
                        }
                    },
                    () = tokio::time::sleep(bus.poll) => {}
                }
                let Ok(mut conn) = bus.redis.connection().await else {
                    continue;
                };
                let flag: Result<Option<String>, _> =
                    redis::cmd("GET").arg(&key).query_async(&mut conn).await;
                if let Ok(Some(_)) = flag {
                    tracing::info!(%message_id, "generation cancelled through another instance");
                    stop();
                    return;
                }
            }
        })
    }
}

/// The process's subscriber: forwards every announced id to the running generations'
/// watchers; reconnects after Redis comes back.
async fn listen(redis: Redis, wake: broadcast::Sender<String>) {
    loop {
        match redis.pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(CHANNEL).await {
                Ok(()) => {
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        if let Ok(id) = message.get_payload::<String>() {
                            let _ = wake.send(id);
                        }
                    }
                    tracing::warn!("lost the Redis cancel subscription; resubscribing");
                }
                Err(error) => tracing::warn!(%error, "could not subscribe to Redis cancels"),
            },
            Err(error) => tracing::debug!(%error, "Redis unavailable for the cancel subscription"),
        }
        tokio::time::sleep(RESUBSCRIBE).await;
    }
}
