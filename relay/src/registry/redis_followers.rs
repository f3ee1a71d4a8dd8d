//! The resume grace counts followers on other instances too (`RELAY_REDIS_URL`).
//!
//! A generation nobody watches is dropped after the resume grace. Its own instance sees only
//! its own sockets; a socket that came back through another instance follows the frames in
//! Redis (`redis_stream.rs`). So that follower marks the generation followed in Redis, for
//! the grace, renewed every third of it; when its instance's grace runs out, the running
//! instance reads the mark and keeps going while it lasts. A follower that leaves stops
//! renewing: the generation is dropped a grace after it left, as with a local socket.
//!
//! Key: `chatwire:{conv:<owner>:<session>:<conversation>}:followed:<message_id>`, TTL the
//! resume grace.

use std::time::{Duration, Instant};

use redis::aio::ConnectionLike;

use super::store::StreamMeta;
use crate::redis_conn::{conversation_key, Redis};

fn followed_key(meta: &StreamMeta) -> String {
    conversation_key(
        meta.scope.owner,
        &meta.scope.session_id,
        &meta.conversation_id,
        &format!("followed:{}", meta.message_id),
    )
}

/// How often a follower renews its mark: three times per grace, so that one late renewal
/// does not let it lapse.
pub fn renew_every(grace: Duration) -> Duration {
    grace / 3
}

/// A follower's mark on the generation it follows from another instance.
pub struct FollowMark {
    key: String,
    grace: Duration,
    renewed: Option<Instant>,
}

impl FollowMark {
    /// The mark of `meta`'s generation, lasting `grace`; set by the first
    /// [`FollowMark::renew_if_due`].
    pub fn new(meta: &StreamMeta, grace: Duration) -> FollowMark {
        FollowMark {
            key: followed_key(meta),
            grace,
            renewed: None,
        }
    }

    /// Whether the mark must be (re)set at `now`.
    fn due(&self, now: Instant) -> bool {
        self.renewed
            .is_none_or(|at| now.duration_since(at) >= renew_every(self.grace))
    }

    /// Sets the mark for another grace if a third of it has passed since the last time.
    /// A failure is only logged: the follower finds out about Redis from its own reads.
    pub async fn renew_if_due(&mut self, conn: &mut impl ConnectionLike) {
        let now = Instant::now();
        if !self.due(now) {
            return;
        }
        self.renewed = Some(now);
        let set: Result<(), _> = redis::cmd("SET")
            .arg(&self.key)
            .arg(1)
            .arg("PX")
            .arg(millis(self.grace))
            .query_async(conn)
            .await;
        if let Err(error) = set {
            tracing::debug!(%error, "could not mark a generation followed");
        }
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

    /// How much longer the mark lasts; `None` when nobody follows the generation elsewhere
    /// (or Redis cannot tell: then nobody elsewhere can read its frames either).
    pub async fn followed_for(&self) -> Option<Duration> {
        let mut conn = self.redis.connection().await.ok()?;
        let left: i64 = redis::cmd("PTTL")
            .arg(&self.key)
            .query_async(&mut conn)
            .await
            .ok()?;
        // -2: no such key; -1: no TTL, which this module never sets.
        u64::try_from(left)
            .ok()
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis)
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenId;
    use crate::registry::Scope;

    #[test]
    fn a_mark_is_set_at_once_then_renewed_every_third_of_the_grace() {
        let meta = StreamMeta {
            scope: Scope {
                owner: TokenId(1),
                session_id: "s".to_owned(),
            },
            message_id: "msg_1".to_owned(),
            client_message_id: None,
            conversation_id: "c".to_owned(),
        };
        let grace = Duration::from_secs(30);
        let mut mark = FollowMark::new(&meta, grace);
        assert_eq!(mark.key, "chatwire:{conv:1:s:c}:followed:msg_1");
        let start = Instant::now();
        assert!(mark.due(start));
        mark.renewed = Some(start);
        assert!(!mark.due(start + Duration::from_secs(9)));
        assert!(mark.due(start + Duration::from_secs(10)));
    }
}
