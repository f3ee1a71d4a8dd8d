//! The relay's Redis connection (`RELAY_REDIS_URL`): one multiplexed, self-reconnecting
//! connection shared by every socket, opened on first use so the relay starts (and answers
//! `/healthz` with 503) while Redis is down, and recovers by itself when it is back.
//!
//! Every command runs under short timeouts: when Redis is unreachable a chat message is
//! refused in about a second instead of hanging. Key names are built here too
//! ([`conversation_key`], [`session_key`]), so their layout is written down once.
//!
//! Commands run on a thread of their own (`redis_conn/thread.rs`), so that their timeouts measure
//! Redis and not the relay's run queue.

mod thread;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;
use tokio::task::JoinHandle;

pub use thread::RedisConnection;
use thread::RedisThread;

use crate::auth::TokenId;

/// How long opening a connection to Redis may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1_000);
/// How long one command may wait for its answer.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(2_000);

/// Redis could not be reached or answered with an error. Retryable: the connection
/// reconnects by itself.
#[derive(Debug, thiserror::Error)]
#[error("redis unavailable: {0}")]
pub struct RedisUnavailable(#[from] pub redis::RedisError);

/// A shared handle on Redis; cheap to clone.
#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    manager: Arc<OnceCell<ConnectionManager>>,
    thread: Arc<RedisThread>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: never print it.
        f.debug_struct("Redis").finish_non_exhaustive()
    }
}

impl Redis {
    /// A handle on the server `url` names (`redis://host:port/db`); connects on first use.
    pub fn open(url: &str) -> Result<Redis, redis::RedisError> {
        Ok(Redis {
            client: redis::Client::open(url)?,
            manager: Arc::default(),
            thread: Arc::new(RedisThread::start()?),
        })
    }

    /// The shared connection, opened now if it never was. A failed open is retried by the
    /// next caller; once open, the manager reconnects by itself after Redis comes back.
    pub async fn connection(&self) -> Result<RedisConnection, RedisUnavailable> {
        let manager = self
            .manager
            .get_or_try_init(|| {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(CONNECT_TIMEOUT)
                    .set_response_timeout(RESPONSE_TIMEOUT)
                    .set_number_of_retries(1)
                    .set_max_delay(500);
                let client = self.client.clone();
                self.thread
                    .run(ConnectionManager::new_with_config(client, config))
            })
            .await?;
        Ok(self.on_thread(manager.clone()))
    }

    /// A connection of its own, for a blocking read (`XREAD BLOCK`) that must not hold up
    /// the shared connection's other commands; its answers may take `block` longer.
    pub async fn dedicated(
        &self,
        block: Duration,
    ) -> Result<RedisConnection<redis::aio::MultiplexedConnection>, RedisUnavailable> {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT + block);
        let client = self.client.clone();
        let connection = self
            .thread
            .run(async move {
                client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
            })
            .await?;
        Ok(self.on_thread(connection))
    }

    /// A pub/sub connection of its own, its reader on the Redis thread; keep this handle
    /// (or a clone) while using it: the thread stops with the last one.
    pub async fn pubsub(&self) -> Result<redis::aio::PubSub, RedisUnavailable> {
        let client = self.client.clone();
        Ok(self
            .thread
            .run(async move { client.get_async_pubsub().await })
            .await?)
    }

    /// Runs `task` on the Redis thread: for a task that mostly talks to Redis (a frame
    /// writer, a follower's mark), so that it keeps up while the relay's workers are
    /// saturated.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) -> JoinHandle<()> {
        self.thread.spawn(task)
    }

    fn on_thread<C>(&self, inner: C) -> RedisConnection<C> {
        RedisConnection::new(inner, self.thread.clone())
    }

    /// `PING`: whether Redis answers right now (for `/healthz`).
    pub async fn ping(&self) -> Result<(), RedisUnavailable> {
        let mut conn = self.connection().await?;
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }
}

/// `duration` in whole milliseconds for `PX` and `PEXPIRE`: at least 1 (Redis refuses 0).
pub fn ttl_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Escapes one key component so that `:`, `{` and `}` in client-chosen ids can neither
/// collide two keys nor move the hash tag.
fn escape(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for c in part.chars() {
        match c {
            '%' => out.push_str("%25"),
            ':' => out.push_str("%3A"),
            '{' => out.push_str("%7B"),
            '}' => out.push_str("%7D"),
            c => out.push(c),
        }
    }
    out
}

/// `chatwire:{conv:<owner>:<session>:<conversation>}:<what>`: every key of one conversation
/// shares the hash tag, so a Redis Cluster keeps them in one slot (and one script may touch
/// them all).
pub fn conversation_key(owner: TokenId, session: &str, conversation: &str, what: &str) -> String {
    format!(
        "chatwire:{{conv:{}:{}:{}}}:{what}",
        owner.0,
        escape(session),
        escape(conversation)
    )
}

/// `chatwire:{sess:<owner>:<session>}:<what>:<id>`: keys found by a session-wide id (a
/// `client_message_id` is unique per session, whatever its conversation).
pub fn session_key(owner: TokenId, session: &str, what: &str, id: &str) -> String {
    format!(
        "chatwire:{{sess:{}:{}}}:{what}:{}",
        owner.0,
        escape(session),
        escape(id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_share_a_hash_tag_and_client_ids_cannot_collide_or_move_it() {
        assert_eq!(
            conversation_key(TokenId(2), "s1", "c1", "history"),
            "chatwire:{conv:2:s1:c1}:history"
        );
        assert_ne!(
            conversation_key(TokenId(0), "a:b", "c", "lease"),
            conversation_key(TokenId(0), "a", "b:c", "lease")
        );
        let key = conversation_key(TokenId(0), "s}x{", "c%", "lease");
        assert_eq!(key, "chatwire:{conv:0:s%7Dx%7B:c%25}:lease");
        assert_eq!(
            session_key(TokenId(1), "s", "client", "m:1"),
            "chatwire:{sess:1:s}:client:m%3A1"
        );
    }
}
