//! The Redis [`HistoryBackend`] (`RELAY_REDIS_URL`): history, the conversation lease and the
//! accepted `client_message_id`s, shared by every relay instance on the same Redis.
//!
//! Keys (see relay/README.md, "Redis key layout"), all with a TTL:
//! - `chatwire:{conv:<owner>:<session>:<conversation>}:history`: the turns as a JSON array,
//!   bounded like the in-memory history; expires after `idle_ttl` without a generation.
//! - `chatwire:{conv:…}:lease`: the id of the generation holding the conversation busy
//!   (`SET NX PX`), renewed every third of its TTL while it runs, deleted when it ends; a
//!   crashed instance's lease simply expires.
//! - `chatwire:{sess:<owner>:<session>}:client:<client_message_id>`: the generation a
//!   client id started (`SET NX EX`), so a re-sent message is never answered twice.
//!
//! The commit is one script that writes the history and deletes the lease only while the
//! lease is still the committer's: a generation whose lease expired (Redis unreachable for
//! longer than its TTL) cannot overwrite a newer generation's history.

use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt};
use redis::Script;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use super::{
    with_exchange, AcceptError, BeginError, Begun, ConversationKey, HistoryBackend, HistoryLimits,
    Lease, Role, Turn,
};
use crate::redis_conn::{conversation_key, session_key, ttl_millis, Redis};
use crate::registry::StreamMeta;

/// How long an accepted `client_message_id` is remembered.
pub const CLIENT_ID_TTL: Duration = Duration::from_secs(24 * 3600);

/// Takes the lease (KEYS[1]) for ARGV[1] for ARGV[2] ms; returns the history (KEYS[2]) with
/// its TTL refreshed to ARGV[3] s, `""` when there is none, or nil when the lease is held.
const BEGIN: &str = r"
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
local history = redis.call('GET', KEYS[2])
if not history then return '' end
redis.call('EXPIRE', KEYS[2], ARGV[3])
return history
";

/// Extends the lease KEYS[1] to ARGV[2] ms if ARGV[1] still holds it; 1 if it did.
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
";

/// If ARGV[1] still holds the lease KEYS[1]: writes the history KEYS[2] = ARGV[2] for ARGV[3]
/// s and deletes the lease; 1 if it did.
const COMMIT: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
redis.call('DEL', KEYS[1])
return 1
";

/// Deletes the lease KEYS[1] if ARGV[1] still holds it.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
";

/// One turn as stored in the history key.
#[derive(Serialize, Deserialize)]
struct StoredTurn {
    role: String,
    content: String,
}

/// What an accepted client id key holds.
#[derive(Serialize, Deserialize)]
struct AcceptedId {
    message_id: String,
    conversation_id: String,
}

fn encode_turns<'a>(turns: impl Iterator<Item = &'a Turn>) -> String {
    let stored: Vec<StoredTurn> = turns
        .map(|t| StoredTurn {
            role: t.role.as_str().to_owned(),
            content: t.content.clone(),
        })
        .collect();
    serde_json::to_string(&stored).unwrap_or_else(|_| "[]".to_owned())
}

fn decode_turns(raw: &str) -> Vec<Turn> {
    if raw.is_empty() {
        return Vec::new();
    }
    match serde_json::from_str::<Vec<StoredTurn>>(raw) {
        Ok(stored) => stored
            .into_iter()
            .map(|t| Turn {
                role: if t.role == "assistant" {
                    Role::Assistant
                } else {
                    Role::User
                },
                content: t.content,
            })
            .collect(),
        Err(error) => {
            tracing::warn!(%error, "unreadable history in Redis; starting the conversation afresh");
            Vec::new()
        }
    }
}

fn seconds(d: Duration) -> u64 {
    d.as_secs().max(1)
}

/// Conversations kept in Redis.
pub struct RedisHistory {
    redis: Redis,
    limits: HistoryLimits,
    lease_ttl: Duration,
}

impl RedisHistory {
    /// A backend over `redis`; leases last `lease_ttl` unless renewed.
    pub fn new(redis: Redis, limits: HistoryLimits, lease_ttl: Duration) -> RedisHistory {
        RedisHistory {
            redis,
            limits,
            lease_ttl,
        }
    }

    fn keys(key: &ConversationKey) -> (String, String) {
        let (owner, session, conversation) = (key.owner, &key.session_id, &key.conversation_id);
        (
            conversation_key(owner, session, conversation, "lease"),
            conversation_key(owner, session, conversation, "history"),
        )
    }

    async fn begin_inner(&self, key: &ConversationKey, holder: &str) -> Result<Begun, BeginError> {
        let (lease_key, history_key) = Self::keys(key);
        let unavailable = |error: redis::RedisError| {
            tracing::warn!(%error, "Redis unavailable: refusing a generation");
            BeginError::Unavailable
        };
        let mut conn = self
            .redis
            .connection()
            .await
            .map_err(|e| unavailable(e.0))?;
        let history: Option<String> = Script::new(BEGIN)
            .key(&lease_key)
            .key(&history_key)
            .arg(holder)
            .arg(ttl_millis(self.lease_ttl))
            .arg(seconds(self.limits.idle_ttl))
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let Some(history) = history else {
            return Err(BeginError::Busy);
        };
        let turns = decode_turns(&history);
        let renew = tokio::spawn(renew(
            self.redis.clone(),
            lease_key.clone(),
            holder.to_owned(),
            self.lease_ttl,
        ));
        let lease = RedisLease {
            redis: self.redis.clone(),
            lease_key,
            history_key,
            holder: holder.to_owned(),
            turns: turns.clone(),
            limits: self.limits,
            renew: Some(renew),
        };
        Ok((Box::new(lease), turns))
    }

    async fn accept_inner(&self, meta: &StreamMeta) -> Result<(), AcceptError> {
        let Some(client_id) = &meta.client_message_id else {
            return Ok(());
        };
        let scope = &meta.scope;
        let key = session_key(scope.owner, &scope.session_id, "client", client_id);
        let value = serde_json::to_string(&AcceptedId {
            message_id: meta.message_id.clone(),
            conversation_id: meta.conversation_id.clone(),
        })
        .unwrap_or_default();
        let unavailable = |error: redis::RedisError| {
            tracing::warn!(%error, "Redis unavailable: refusing a generation");
            AcceptError::Unavailable
        };
        let mut conn = self
            .redis
            .connection()
            .await
            .map_err(|e| unavailable(e.0))?;
        let set: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(&value)
            .arg("NX")
            .arg("EX")
            .arg(CLIENT_ID_TTL.as_secs())
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        if set.is_some() {
            return Ok(());
        }
        let existing: Option<String> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let accepted = existing
            .and_then(|raw| serde_json::from_str::<AcceptedId>(&raw).ok())
            .unwrap_or(AcceptedId {
                message_id: String::new(),
                conversation_id: meta.conversation_id.clone(),
            });
        Err(AcceptError::Taken(StreamMeta {
            scope: scope.clone(),
            message_id: accepted.message_id,
            client_message_id: Some(client_id.clone()),
            conversation_id: accepted.conversation_id,
        }))
    }

    async fn turns_inner(&self, key: &ConversationKey) -> Result<Vec<Turn>, BeginError> {
        let (_, history_key) = Self::keys(key);
        let mut conn = self
            .redis
            .connection()
            .await
            .map_err(|_| BeginError::Unavailable)?;
        let raw: Option<String> = redis::cmd("GET")
            .arg(&history_key)
            .query_async(&mut conn)
            .await
            .map_err(|_| BeginError::Unavailable)?;
        Ok(decode_turns(raw.as_deref().unwrap_or("")))
    }
}

impl HistoryBackend for RedisHistory {
    fn begin<'a>(
        &'a self,
        key: &'a ConversationKey,
        holder: &'a str,
    ) -> BoxFuture<'a, Result<Begun, BeginError>> {
        self.begin_inner(key, holder).boxed()
    }

    fn accept_client_id<'a>(
        &'a self,
        meta: &'a StreamMeta,
    ) -> BoxFuture<'a, Result<(), AcceptError>> {
        self.accept_inner(meta).boxed()
    }

    fn turns<'a>(
        &'a self,
        key: &'a ConversationKey,
    ) -> BoxFuture<'a, Result<Vec<Turn>, BeginError>> {
        self.turns_inner(key).boxed()
    }
}

/// Keeps the lease alive while the generation runs: renews it every third of its TTL, so
/// two failed renewals in a row still leave it held.
async fn renew(redis: Redis, lease_key: String, holder: String, ttl: Duration) {
    let script = Script::new(RENEW);
    loop {
        tokio::time::sleep(ttl / 3).await;
        let renewed: Result<i64, _> = match redis.connection().await {
            Ok(mut conn) => {
                script
                    .key(&lease_key)
                    .arg(&holder)
                    .arg(ttl_millis(ttl))
                    .invoke_async(&mut conn)
                    .await
            }
            Err(e) => Err(e.0),
        };
        match renewed {
            Ok(1) => {}
            Ok(_) => {
                tracing::warn!(%holder, "conversation lease lost (expired while Redis was unreachable?); its history will not be written");
                return;
            }
            Err(error) => tracing::warn!(%holder, %error, "could not renew a conversation lease"),
        }
    }
}

/// A conversation held busy in Redis. Dropping it stops the renewal and deletes the lease
/// in the background.
pub struct RedisLease {
    redis: Redis,
    lease_key: String,
    history_key: String,
    holder: String,
    turns: Vec<Turn>,
    limits: HistoryLimits,
    renew: Option<JoinHandle<()>>,
}

impl RedisLease {
    fn stop_renewing(&mut self) {
        if let Some(renew) = self.renew.take() {
            renew.abort();
        }
    }

    /// Runs a lease script (`COMMIT` or `RELEASE`: KEYS[1] the lease, ARGV[1] the holder).
    async fn run(
        redis: Redis,
        script: Script,
        keys: Vec<String>,
        holder: String,
        args: Vec<String>,
    ) {
        let result: Result<i64, _> = match redis.connection().await {
            Ok(mut conn) => {
                let mut invocation = script.prepare_invoke();
                for key in &keys {
                    invocation.key(key);
                }
                invocation.arg(&holder);
                for arg in &args {
                    invocation.arg(arg);
                }
                invocation.invoke_async(&mut conn).await
            }
            Err(e) => Err(e.0),
        };
        match result {
            Ok(1) => {}
            Ok(_) => {
                tracing::warn!(%holder, "conversation lease was lost before the generation ended; nothing written")
            }
            Err(error) => {
                tracing::warn!(%holder, %error, "Redis unavailable at the end of a generation; its lease will expire")
            }
        }
    }
}

impl Lease for RedisLease {
    fn commit(mut self: Box<Self>, user: String, assistant: String) -> BoxFuture<'static, ()> {
        self.stop_renewing();
        let turns = with_exchange(
            std::mem::take(&mut self.turns),
            user,
            assistant,
            &self.limits,
        );
        let keys = vec![
            std::mem::take(&mut self.lease_key),
            self.history_key.clone(),
        ];
        let args = vec![
            encode_turns(turns.iter()),
            seconds(self.limits.idle_ttl).to_string(),
        ];
        Self::run(
            self.redis.clone(),
            Script::new(COMMIT),
            keys,
            self.holder.clone(),
            args,
        )
        .boxed()
    }

    fn release(mut self: Box<Self>) -> BoxFuture<'static, ()> {
        self.stop_renewing();
        let keys = vec![std::mem::take(&mut self.lease_key)];
        Self::run(
            self.redis.clone(),
            Script::new(RELEASE),
            keys,
            self.holder.clone(),
            Vec::new(),
        )
        .boxed()
    }
}

impl Drop for RedisLease {
    fn drop(&mut self) {
        self.stop_renewing();
        // Empty once committed or released.
        if self.lease_key.is_empty() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let release = Self::run(
                self.redis.clone(),
                Script::new(RELEASE),
                vec![std::mem::take(&mut self.lease_key)],
                self.holder.clone(),
                Vec::new(),
            );
            runtime.spawn(release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_round_trip_through_their_stored_form() {
        let turns = vec![
            Turn {
                role: Role::User,
                content: "hi \"there\"".into(),
            },
            Turn {
                role: Role::Assistant,
                content: "héllo".into(),
            },
        ];
        assert_eq!(decode_turns(&encode_turns(turns.iter())), turns);
        assert!(decode_turns("").is_empty());
        assert!(decode_turns("not json").is_empty());
    }
}
