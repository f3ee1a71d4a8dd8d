//! The resume grace counts followers on other instances too (`RELAY_REDIS_URL`).
//!
//! A generation nobody watches is dropped after the resume grace. Its own instance sees only
//! its own sockets; a socket that came back through another instance follows the frames in
//! Redis (`redis_stream.rs`). So that follower marks the generation followed in Redis, for
//! the grace (at least 3 s), renewed every third of it; when its instance's grace runs out,
//! the running instance reads the mark and keeps going while it lasts. A follower that
//! leaves stops renewing: the generation is dropped within a grace after it left (the mark
//! runs from its last renewal), as with a local socket. When Redis cannot tell, the
//! generation keeps going and asks again: dropping a reply someone follows loses it, while
//! running one nobody follows only costs its upstream tokens.
//!
//! Key: `chatwire:{conv:<owner>:<session>:<conversation>}:followed:<message_id>`, TTL the
//! resume grace.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::task::AbortOnDropHandle;

use super::redis_stream::generation_key;
use super::store::StreamMeta;
use crate::redis_conn::{ttl_millis, Redis};

fn followed_key(meta: &StreamMeta) -> String {
    generation_key(meta, "followed")
}

/// How long the running instance waits to learn whether anyone follows elsewhere.
const CHECK_TIMEOUT: Duration = Duration::from_millis(500);
/// When Redis could not tell, how long until the running instance asks again.
const RECHECK: Duration = Duration::from_secs(1);

/// The shortest a mark lasts, whatever the grace (even 0). Renewing every third of a short
/// time costs a command every few milliseconds per follower, and a renewal late by two
/// thirds of it lets the mark lapse under a follower still there: with 1 s that happened
/// under the test suite's load (a renewal more than 667 ms late).
const MIN_MARK: Duration = Duration::from_secs(3);

/// How long a follower's mark lasts, from its last renewal: the resume grace, at least
/// [`MIN_MARK`].
pub fn mark_ttl(grace: Duration) -> Duration {
    grace.max(MIN_MARK)
}

/// How often a follower renews its mark: three times per [`mark_ttl`], so that one late
/// renewal does not let it lapse.
pub fn renew_every(ttl: Duration) -> Duration {
    ttl / 3
}

/// A follower's mark on the generation it follows from another instance, renewed by a task
/// on the Redis thread (so a follower whose socket is slow still counts, as a slow socket
/// on the running instance does) until this is dropped.
pub struct FollowMark {
    _renewing: AbortOnDropHandle<()>,
}

impl FollowMark {
    /// Marks `meta`'s generation followed now, and for as long as this lives.
    pub fn keep(redis: &Redis, meta: &StreamMeta, grace: Duration) -> FollowMark {
        let renewing = redis.spawn(renew(redis.clone(), followed_key(meta), mark_ttl(grace)));
        FollowMark {
            _renewing: AbortOnDropHandle::new(renewing),
        }
    }
}

/// Sets the mark for `ttl`, every third of it. A failure is only logged: the follower
/// finds out about Redis from its own reads.
async fn renew(redis: Redis, key: String, ttl: Duration) {
    loop {
        let set: Result<(), _> = async {
            let mut conn = redis.connection().await.map_err(|e| e.0)?;
            redis::cmd("SET")
                .arg(&key)
                .arg(1)
                .arg("PX")
                .arg(ttl_millis(ttl))
                .query_async(&mut conn)
                .await
        }
        .await;
        if let Err(error) = set {
            tracing::debug!(%error, "could not mark a generation followed");
        }
        tokio::time::sleep(renew_every(ttl)).await;
    }
}

/// The running instance's side: whether a socket elsewhere follows the generation.
#[derive(Clone)]
pub struct RemoteFollowers {
    redis: Redis,
    key: String,
}

impl RemoteFollowers {
    /// Followers of `meta`'s generation, as marked in `redis`.
    pub fn new(redis: Redis, meta: &StreamMeta) -> RemoteFollowers {
        RemoteFollowers {
            redis,
            key: followed_key(meta),
        }
    }

    /// Whether someone follows the generation elsewhere, read from its mark. The
    /// generation waits for this answer, so it is bounded by [`CHECK_TIMEOUT`].
    pub async fn check(&self) -> Followed {
        let left = tokio::time::timeout(CHECK_TIMEOUT, async {
            let mut conn = self.redis.connection().await.ok()?;
            redis::cmd("PTTL")
                .arg(&self.key)
                .query_async::<i64>(&mut conn)
                .await
                .ok()
        })
        .await;
        match left {
            // -2: no such key; -1: no TTL, which this module never sets.
            Ok(Some(ms)) => u64::try_from(ms)
                .ok()
                .filter(|&ms| ms > 0)
                .map_or(Followed::Not, |ms| Followed::For(Duration::from_millis(ms))),
            Ok(None) | Err(_) => Followed::Unknown,
        }
    }
}

/// What the running instance learned of followers elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followed {
    /// Someone follows it; the mark lasts this much longer.
    For(Duration),
    /// Nobody follows it elsewhere (or there is no elsewhere: no Redis).
    Not,
    /// Redis did not answer in time, or failed.
    Unknown,
}

impl Followed {
    /// Until when the generation keeps going for followers elsewhere, checked at `now`;
    /// `None`: drop it.
    pub fn keep_until(self, now: Instant) -> Option<Instant> {
        match self {
            Followed::For(left) => Some(now + left),
            Followed::Not => None,
            Followed::Unknown => Some(now + RECHECK),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenId;
    use crate::registry::Scope;

    #[test]
    fn a_mark_lasts_the_grace_but_at_least_3_s_and_is_renewed_three_times_over() {
        assert_eq!(mark_ttl(Duration::from_secs(30)), Duration::from_secs(30));
        assert_eq!(mark_ttl(Duration::ZERO), Duration::from_secs(3));
        assert_eq!(
            renew_every(Duration::from_secs(30)),
            Duration::from_secs(10)
        );
        let meta = StreamMeta {
            scope: Scope {
                owner: TokenId(1),
                session_id: "s".to_owned(),
            },
            message_id: "msg_1".to_owned(),
            client_message_id: None,
            conversation_id: "c".to_owned(),
        };
        assert_eq!(followed_key(&meta), "chatwire:{conv:1:s:c}:followed:msg_1");
    }

    #[test]
    fn a_reply_is_dropped_only_when_redis_says_nobody_follows_it() {
        let now = Instant::now();
        let left = Duration::from_millis(700);
        assert_eq!(Followed::For(left).keep_until(now), Some(now + left));
        assert_eq!(Followed::Not.keep_until(now), None);
        assert_eq!(Followed::Unknown.keep_until(now), Some(now + RECHECK));
    }
}
