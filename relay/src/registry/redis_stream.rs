//! A generation's frames mirrored into a Redis Stream (`RELAY_REDIS_URL`), so a `resume`
//! through another relay instance continues the answer.
//!
//! The instance running a generation keeps its in-memory store (its own sockets read it) and
//! writes every frame to Redis too, from a writer task on the Redis thread: what gathered in
//! up to 50 ms goes in one round trip, one `XADD` per 64 frames (each frame a field named by
//! its offset, `<offset>` or `<offset>t` for the terminal one), the entry id being
//! `0-<last offset of the entry>`. So a reader that has applied offset `k` reads the
//! entries after id `0-k`: `XRANGE` to catch up, then `XREAD BLOCK` on a connection of its
//! own from the last id it saw, with no gap between the two.
//!
//! Keys (all with a TTL, set by the first batch, then refreshed every quarter of it and by
//! the last):
//! - `chatwire:{conv:<owner>:<session>:<conversation>}:frames:<message_id>`: the stream;
//! - `chatwire:{sess:<owner>:<session>}:msg:<message_id>`: the generation's ids (JSON), so
//!   another instance finds the stream from a `message_id`. A `client_message_id` is found
//!   through the accepted-id key (`history/redis.rs`).
//!
//! A reader elsewhere learns that the generation died with its instance from the
//! conversation's lease: when no frame comes and the lease is no longer the generation's,
//! it ends the answer with a terminal `upstream_unavailable` (retryable).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use futures_util::future;
use futures_util::stream::{self, BoxStream, StreamExt};
use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::buffer::StoredFrame;
use super::redis_followers::{FollowMark, RemoteFollowers};
use super::store::{Lookup, Scope, StreamMeta};
use super::ResumeConfig;
use crate::error::ErrorCode;
use crate::protocol::{self, ResumeTarget, ServerFrame};
use crate::redis_conn::{conversation_key, session_key, ttl_millis, Redis};

/// Frames waiting for the writer: as many as a generation keeps in memory by default
/// ([`BufferBounds`](super::buffer::BufferBounds)), so that what one poll of a generation
/// publishes fits, however long the relay's workers took to come round to it. Past it
/// frames are dropped, never waited for (see [`Mirror::send`]). The queue holds shared
/// frame bytes and grows only as it fills. With 256, the saturated benchmark (1,000
/// unpaced streams) overran it in most generations: 1,318–3,014 warnings per run.
const QUEUE: usize = 4_096;
/// How long a writer lets frames gather before writing them: what a follower on another
/// instance lags behind at most (this instance's own sockets read its memory, no lag).
const LINGER: Duration = Duration::from_millis(50);
/// Frames a follower reads ahead of its socket.
const FOLLOW_QUEUE: usize = 16;
/// Most frames in one `XADD` (one stream entry).
const BATCH: usize = 64;
/// Longest one `XREAD BLOCK` waits before the reader checks the generation is alive.
const MAX_BLOCK: Duration = Duration::from_millis(600);
/// The last wait once the lease is gone: time for a final batch already on its way (the
/// lease is released just before the terminal frame is queued, which waits up to
/// [`LINGER`] before its `XADD`).
const LAST_BLOCK: Duration = Duration::from_millis(250);

/// The sending side of a generation's writer.
pub struct Mirror {
    tx: mpsc::Sender<StoredFrame>,
    unwritten: Arc<AtomicUsize>,
    message_id: String,
    /// Frames dropped because the writer was behind: the first is logged, the rest counted
    /// and logged once with the generation. (A warning per frame was 400,000 log lines in a
    /// few seconds of the saturated benchmark, written while the relay was short of CPU.)
    not_mirrored: AtomicU64,
}

impl Mirror {
    /// Queues a frame for Redis. Never waits: when Redis is slow or away and the queue is
    /// full the frame is dropped (a resume elsewhere then gets `stream_expired` at the gap),
    /// so this instance's own sockets are never slowed by Redis.
    pub fn send(&self, frame: StoredFrame) {
        self.unwritten.fetch_add(1, Ordering::AcqRel);
        if let Err(error) = self.tx.try_send(frame) {
            self.unwritten.fetch_sub(1, Ordering::AcqRel);
            if let mpsc::error::TrySendError::Full(frame) = error {
                if self.not_mirrored.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::warn!(
                        message_id = %self.message_id,
                        offset = frame.offset,
                        "Redis writer behind; frames from here on may not be mirrored (a resume on another instance gets stream_expired at the first gap)"
                    );
                }
            }
        }
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        let frames = *self.not_mirrored.get_mut();
        if frames > 0 {
            tracing::warn!(
                message_id = %self.message_id,
                frames,
                "frames of the generation not mirrored to Redis (its writer was behind)"
            );
        }
    }
}

/// What the id key holds.
#[derive(Serialize, Deserialize)]
struct Ids {
    message_id: String,
    conversation_id: String,
    client_message_id: Option<String>,
}

/// Where generations' frames are mirrored.
#[derive(Clone)]
pub struct RedisFrames {
    redis: Redis,
    /// How long the frames stay after the last batch.
    ttl: Duration,
    /// Most entries (batches) kept per stream (`MAXLEN ~`).
    max_entries: usize,
    /// Frames handed to writers and not yet written (or given up on).
    unwritten: Arc<AtomicUsize>,
    /// The resume grace: how long a follower's mark keeps the generation running.
    grace: Duration,
    /// How long one `XREAD BLOCK` waits: a third of the lease TTL (at most 0.6 s), so a
    /// follower notices a dead instance within the lease TTL plus this plus [`LAST_BLOCK`].
    block: Duration,
}

/// `chatwire:{conv:<owner>:<session>:<conversation>}:<what>:<message_id>`: a key of one
/// generation (its frames, cancel flag, followers' mark), in its conversation's slot.
pub(super) fn generation_key(meta: &StreamMeta, what: &str) -> String {
    conversation_key(
        meta.scope.owner,
        &meta.scope.session_id,
        &meta.conversation_id,
        &format!("{what}:{}", meta.message_id),
    )
}

fn stream_key(meta: &StreamMeta) -> String {
    generation_key(meta, "frames")
}

pub(super) fn lease_key(meta: &StreamMeta) -> String {
    conversation_key(
        meta.scope.owner,
        &meta.scope.session_id,
        &meta.conversation_id,
        "lease",
    )
}

fn ids_key(scope: &Scope, message_id: &str) -> String {
    session_key(scope.owner, &scope.session_id, "msg", message_id)
}

/// The frames of one entry, oldest first.
fn entry_frames(entry: &StreamId) -> Vec<StoredFrame> {
    let mut frames: Vec<StoredFrame> = entry
        .map
        .iter()
        .filter_map(|(field, value)| {
            let (offset, terminal) = match field.strip_suffix('t') {
                Some(offset) => (offset, true),
                None => (field.as_str(), false),
            };
            let text: String = redis::from_redis_value(value).ok()?;
            Some(StoredFrame {
                offset: offset.parse().ok()?,
                terminal,
                text: Utf8Bytes::from(text),
            })
        })
        .collect();
    frames.sort_by_key(|f| f.offset);
    frames
}

fn entry_last_offset(entry: &StreamId) -> u64 {
    entry
        .id
        .split_once('-')
        .and_then(|(_, seq)| seq.parse().ok())
        .unwrap_or(0)
}

impl RedisFrames {
    /// Mirrors into `redis` under the `resume` settings, keeping frames the resume grace (at
    /// least 1 s) plus `lease` after the last batch, and at most the buffer's frame bound in
    /// batches per generation; `lease` is the conversation lease's TTL.
    pub fn new(redis: Redis, resume: ResumeConfig, lease: Duration) -> RedisFrames {
        RedisFrames {
            redis,
            ttl: resume.grace.max(Duration::from_secs(1)) + lease,
            max_entries: resume.bounds.max_frames,
            grace: resume.grace,
            unwritten: Arc::default(),
            block: (lease / 3).clamp(Duration::from_millis(10), MAX_BLOCK),
        }
    }

    /// Starts the writer of `meta`'s frames: what is sent into the returned queue reaches
    /// Redis in batches. Frames that cannot be written (Redis away) are dropped with a
    /// warning; the generation itself goes on for its own sockets.
    pub fn writer(&self, meta: &StreamMeta) -> Mirror {
        let (tx, rx) = mpsc::channel(QUEUE);
        // On the Redis thread: on the relay's saturated workers the writer came round too
        // seldom to keep up with its generation.
        self.redis.spawn(self.clone().write(meta.clone(), rx));
        Mirror {
            tx,
            unwritten: Arc::clone(&self.unwritten),
            message_id: meta.message_id.clone(),
            not_mirrored: AtomicU64::new(0),
        }
    }

    /// How long a generation's keys outlive its last batch.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Who follows `meta`'s generation from other instances.
    pub fn followers(&self, meta: &StreamMeta) -> RemoteFollowers {
        RemoteFollowers::new(self.redis.clone(), meta)
    }

    /// Waits until every frame handed to a writer has been written (or given up on), at
    /// most `timeout`; the relay calls it before exiting.
    pub async fn flush(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.unwritten.load(Ordering::Acquire) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn write(self, meta: StreamMeta, mut rx: mpsc::Receiver<StoredFrame>) {
        let key = stream_key(&meta);
        let ids = serde_json::to_string(&Ids {
            message_id: meta.message_id.clone(),
            conversation_id: meta.conversation_id.clone(),
            client_message_id: meta.client_message_id.clone(),
        })
        .unwrap_or_default();
        let ttl_ms = ttl_millis(self.ttl);
        let ids_key = ids_key(&meta.scope, &meta.message_id);
        if let Ok(mut conn) = self.redis.connection().await {
            let set: Result<(), _> = redis::cmd("SET")
                .arg(&ids_key)
                .arg(&ids)
                .arg("PX")
                .arg(ttl_ms)
                .query_async(&mut conn)
                .await;
            if let Err(error) = set {
                tracing::warn!(%error, message_id = %meta.message_id, "could not record a generation in Redis");
            }
        }
        let mut batch = Vec::with_capacity(BATCH);
        let mut refreshed: Option<Instant> = None;
        while rx.recv_many(&mut batch, QUEUE).await > 0 {
            // Let a batch gather: tokens come tens of ms apart, so writing each at once
            // would cost one XADD per token. The terminal frame goes at once.
            if !batch.last().is_some_and(|f| f.terminal) {
                tokio::time::sleep(LINGER).await;
                while batch.len() < QUEUE {
                    let Ok(frame) = rx.try_recv() else { break };
                    let terminal = frame.terminal;
                    batch.push(frame);
                    if terminal {
                        break;
                    }
                }
            }
            // Everything gathered goes in one round trip: an entry per [`BATCH`] frames.
            let mut pipe = redis::pipe();
            for entry in batch.chunks(BATCH) {
                pipe.add_command(self.xadd(&key, entry)).ignore();
            }
            // The TTLs run from the last refresh: refreshed by the first batch, the last one,
            // and every quarter of the TTL between, not by every batch.
            let terminal = batch.last().is_some_and(|f| f.terminal);
            let refreshing = terminal || refreshed.is_none_or(|at| at.elapsed() >= self.ttl / 4);
            if refreshing {
                pipe.cmd("PEXPIRE")
                    .arg(&key)
                    .arg(ttl_ms)
                    .ignore()
                    .cmd("PEXPIRE")
                    .arg(&ids_key)
                    .arg(ttl_ms)
                    .ignore();
            }
            let written: Result<(), RedisErrorText> = async {
                let mut conn = self.redis.connection().await.map_err(|e| e.0)?;
                pipe.query_async::<()>(&mut conn).await
            }
            .await
            .map_err(|e| RedisErrorText(e.to_string()));
            match written {
                // Counted from a pipeline that went through: one cut after its `XADD`s
                // may have created the stream without its TTL, so the next one sets it.
                Ok(()) if refreshing => refreshed = Some(Instant::now()),
                Ok(()) => {}
                Err(error) => {
                    tracing::warn!(error = %error.0, message_id = %meta.message_id, frames = batch.len(), "could not write frames to Redis; a resume elsewhere will miss them");
                }
            }
            self.unwritten.fetch_sub(batch.len(), Ordering::AcqRel);
            batch.clear();
        }
    }

    /// The `XADD` of one stream entry holding `frames` (consecutive, at least one).
    fn xadd(&self, key: &str, frames: &[StoredFrame]) -> redis::Cmd {
        let last = frames.last().map_or(0, |f| f.offset);
        let mut xadd = redis::cmd("XADD");
        xadd.arg(key)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.max_entries)
            .arg(format!("0-{last}"));
        for frame in frames {
            let field = if frame.terminal {
                format!("{}t", frame.offset)
            } else {
                frame.offset.to_string()
            };
            xadd.arg(field).arg(frame.text.as_str());
        }
        xadd
    }

    /// What Redis knows of the generation `target` names in `scope` (by conversation: the
    /// one holding the conversation's lease, i.e. still running).
    pub async fn find(&self, scope: &Scope, target: ResumeTarget<'_>) -> Lookup {
        self.find_inner(scope, target)
            .await
            .unwrap_or(Lookup::Unknown)
    }

    async fn find_inner(
        &self,
        scope: &Scope,
        target: ResumeTarget<'_>,
    ) -> Result<Lookup, redis::RedisError> {
        let mut conn = self.redis.connection().await.map_err(|e| e.0)?;
        let key = match target {
            ResumeTarget::MessageId(id) => ids_key(scope, id),
            ResumeTarget::ClientMessageId(id) => {
                session_key(scope.owner, &scope.session_id, "client", id)
            }
            ResumeTarget::Conversation(id) => {
                // The generation answering the conversation right now holds its lease.
                let lease = conversation_key(scope.owner, &scope.session_id, id, "lease");
                let holder: Option<String> =
                    redis::cmd("GET").arg(&lease).query_async(&mut conn).await?;
                match holder {
                    Some(message_id) => ids_key(scope, &message_id),
                    None => return Ok(Lookup::Unknown),
                }
            }
        };
        let raw: Option<String> = redis::cmd("GET").arg(&key).query_async(&mut conn).await?;
        let Some(ids) = raw.and_then(|raw| serde_json::from_str::<Ids>(&raw).ok()) else {
            return Ok(Lookup::Unknown);
        };
        if ids.message_id.is_empty() {
            return Ok(Lookup::Unknown);
        }
        let client_message_id = match target {
            ResumeTarget::ClientMessageId(id) => Some(id.to_owned()),
            _ => ids.client_message_id,
        };
        let meta = StreamMeta {
            scope: scope.clone(),
            message_id: ids.message_id,
            client_message_id,
            conversation_id: ids.conversation_id,
        };
        let stream = stream_key(&meta);
        let first: StreamRangeReply = redis::cmd("XRANGE")
            .arg(&stream)
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await?;
        let last: StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(&stream)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await?;
        let (Some(first), Some(last)) = (first.ids.first(), last.ids.first()) else {
            // No frame in Redis yet: alive while its lease is held, or while its id key
            // (which expires with the frames) says its first batch is on its way.
            let holder: Option<String> = redis::cmd("GET")
                .arg(lease_key(&meta))
                .query_async(&mut conn)
                .await?;
            let started: bool = redis::cmd("EXISTS")
                .arg(ids_key(scope, &meta.message_id))
                .query_async(&mut conn)
                .await?;
            return Ok(
                if started || holder.as_deref() == Some(meta.message_id.as_str()) {
                    Lookup::Live {
                        meta,
                        first_kept: 1,
                        last_offset: 0,
                        finished: false,
                    }
                } else {
                    Lookup::Expired(meta)
                },
            );
        };
        let first_kept = entry_frames(first).first().map_or(1, |f| f.offset);
        let last_frames = entry_frames(last);
        Ok(Lookup::Live {
            meta,
            first_kept,
            last_offset: entry_last_offset(last),
            finished: last_frames.last().is_some_and(|f| f.terminal),
        })
    }

    /// `meta`'s frames after `offset`, read from Redis, until its terminal frame: catches up
    /// with `XRANGE`, then follows with `XREAD BLOCK`.
    pub fn follow(&self, meta: StreamMeta, offset: u64) -> BoxStream<'static, Utf8Bytes> {
        // The reader is a loop sending into a small queue; it is polled together with the
        // queue, in the socket's task, and the queue ends when the loop does.
        // The queue's side also holds the follower's mark: the running instance counts
        // this follower as a watcher until the last frame is out or the socket drops it.
        let mark = FollowMark::keep(&self.redis, &meta, self.grace);
        let (out, queued) = mpsc::channel(FOLLOW_QUEUE);
        let reader = stream::once(self.clone().follow_into(meta, offset, out))
            .filter_map(|()| future::ready(None));
        let frames = stream::unfold((queued, mark), |(mut queued, mark)| async move {
            let frame = queued.recv().await?;
            Some((frame, (queued, mark)))
        });
        stream::select(reader, frames).boxed()
    }

    async fn follow_into(self, meta: StreamMeta, mut offset: u64, out: mpsc::Sender<Utf8Bytes>) {
        let key = stream_key(&meta);
        let mut conn = match self.redis.dedicated(self.block).await {
            Ok(conn) => conn,
            Err(error) => {
                tracing::warn!(%error, "Redis unavailable: cannot follow a generation");
                return self
                    .end(&meta, offset, ErrorCode::UpstreamUnavailable, &out)
                    .await;
            }
        };
        let mut last_id = format!("0-{offset}");
        // Catch up: every entry holding a frame after `offset`.
        let caught_up: Result<StreamRangeReply, _> = redis::cmd("XRANGE")
            .arg(&key)
            .arg(format!("0-{}", offset + 1))
            .arg("+")
            .query_async(&mut conn)
            .await;
        let mut pending = match caught_up {
            Ok(reply) => reply.ids,
            Err(error) => {
                tracing::warn!(%error, "Redis unavailable: cannot follow a generation");
                return self
                    .end(&meta, offset, ErrorCode::UpstreamUnavailable, &out)
                    .await;
            }
        };
        let mut lease_gone = false;
        loop {
            for entry in pending.drain(..) {
                last_id.clone_from(&entry.id);
                for frame in entry_frames(&entry) {
                    if frame.offset <= offset {
                        continue;
                    }
                    if frame.offset != offset + 1 {
                        // Trimmed by MAXLEN before this reader got there.
                        return self.expired(&meta, &out).await;
                    }
                    if out.send(frame.text).await.is_err() || frame.terminal {
                        return;
                    }
                    offset = frame.offset;
                }
            }
            let read: Result<Option<StreamReadReply>, _> = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(BATCH)
                .arg("BLOCK")
                .arg(
                    u64::try_from(if lease_gone { LAST_BLOCK } else { self.block }.as_millis())
                        .unwrap_or(1_000),
                )
                .arg("STREAMS")
                .arg(&key)
                .arg(&last_id)
                .query_async(&mut conn)
                .await;
            match read {
                Ok(Some(reply)) if reply.keys.iter().any(|k| !k.ids.is_empty()) => {
                    lease_gone = false;
                    pending = reply.keys.into_iter().flat_map(|k| k.ids).collect();
                }
                Ok(_) => {
                    // Nothing for a while: is anyone still producing?
                    let holder: Result<Option<String>, _> = redis::cmd("GET")
                        .arg(lease_key(&meta))
                        .query_async(&mut conn)
                        .await;
                    let alive = matches!(&holder, Ok(Some(h)) if *h == meta.message_id);
                    // Gone twice in a row: the second wait gave a final batch (written just
                    // after the lease is released) the time to arrive.
                    if !alive && lease_gone {
                        tracing::warn!(message_id = %meta.message_id, "the instance running a followed generation is gone");
                        return self
                            .end(&meta, offset, ErrorCode::UpstreamUnavailable, &out)
                            .await;
                    }
                    lease_gone = !alive;
                }
                Err(error) => {
                    tracing::warn!(%error, message_id = %meta.message_id, "Redis unavailable while following a generation");
                    return self
                        .end(&meta, offset, ErrorCode::UpstreamUnavailable, &out)
                        .await;
                }
            }
        }
    }

    /// Ends a followed generation with a terminal error at the next offset.
    async fn end(
        &self,
        meta: &StreamMeta,
        offset: u64,
        code: ErrorCode,
        out: &mpsc::Sender<Utf8Bytes>,
    ) {
        let frame = protocol::encode(&ServerFrame::error(
            code,
            Some(&meta.message_id),
            meta.client_message_id.as_deref(),
            Some(offset + 1),
        ));
        // A closed queue means the socket stopped watching: nothing left to tell.
        let _ = out.send(Utf8Bytes::from(frame)).await;
    }

    async fn expired(&self, meta: &StreamMeta, out: &mpsc::Sender<Utf8Bytes>) {
        let frame = protocol::encode(&ServerFrame::error(
            ErrorCode::StreamExpired,
            Some(&meta.message_id),
            meta.client_message_id.as_deref(),
            None,
        ));
        let _ = out.send(Utf8Bytes::from(frame)).await;
    }
}

/// A Redis error as text (the pipeline's and the connection's errors differ in type).
struct RedisErrorText(String);

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn an_entry_holds_its_frames_in_offset_order_and_its_id_names_the_last() {
        let mut map = HashMap::new();
        for (field, text) in [("12t", "c"), ("10", "a"), ("11", "b")] {
            map.insert(
                field.to_owned(),
                redis::Value::BulkString(text.as_bytes().to_vec()),
            );
        }
        let entry = StreamId {
            id: "0-12".into(),
            map,
        };
        let frames = entry_frames(&entry);
        let offsets: Vec<_> = frames.iter().map(|f| (f.offset, f.terminal)).collect();
        assert_eq!(offsets, [(10, false), (11, false), (12, true)]);
        assert_eq!(frames[0].text.as_str(), "a");
        assert_eq!(entry_last_offset(&entry), 12);
    }
}
