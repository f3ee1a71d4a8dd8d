//! The generations one socket watches (at most `RELAY_MAX_GENERATIONS_PER_SOCKET`, 4 by
//! default), each with the stream of its frames, polled in turn by the socket's loop.
//!
//! A plain list rather than `futures::stream::SelectAll`: `SelectAll` puts a stream back into
//! its `FuturesUnordered` after every item, which allocates a task node per frame; a socket
//! watches one generation almost always, so trying each in turn costs nothing.

use std::future::poll_fn;
use std::task::{Context, Poll};

use axum::extract::ws::Utf8Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;

use crate::registry::StreamMeta;

/// What polling the watchers gave.
pub enum Watched {
    /// A frame of a watched generation, for the client.
    Frame(Utf8Bytes),
    /// A watcher gave its last frame and is removed.
    Ended,
}

struct Watcher {
    meta: StreamMeta,
    frames: BoxStream<'static, Utf8Bytes>,
}

/// A socket's watchers.
#[derive(Default)]
pub struct Watchers {
    list: Vec<Watcher>,
    /// Polled first next time, so that one busy generation cannot starve another.
    first: usize,
}

impl Watchers {
    /// Watches `meta` through `frames` until they end.
    pub fn push(&mut self, meta: StreamMeta, frames: BoxStream<'static, Utf8Bytes>) {
        self.list.push(Watcher { meta, frames });
    }

    /// Generations watched.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether none is watched.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether `message_id` is watched.
    pub fn contains(&self, message_id: &str) -> bool {
        self.list.iter().any(|w| w.meta.message_id == message_id)
    }

    /// The generations watched.
    pub fn metas(&self) -> impl Iterator<Item = &StreamMeta> {
        self.list.iter().map(|w| &w.meta)
    }

    /// Stops watching them all (each watcher detaches as it is dropped).
    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// The next frame (or end) of any watcher; waits forever while none is watched.
    pub async fn next(&mut self) -> Watched {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    /// Polls each watcher once, starting after the one that gave the last item.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Watched> {
        let count = self.list.len();
        for turn in 0..count {
            let index = (self.first + turn) % count;
            match self.list[index].frames.poll_next_unpin(cx) {
                Poll::Ready(Some(frame)) => {
                    self.first = (index + 1) % count;
                    return Poll::Ready(Watched::Frame(frame));
                }
                Poll::Ready(None) => {
                    self.list.swap_remove(index);
                    self.first = 0;
                    return Poll::Ready(Watched::Ended);
                }
                Poll::Pending => {}
            }
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenId;
    use crate::registry::Scope;
    use futures_util::stream;

    fn meta(id: &str) -> StreamMeta {
        StreamMeta {
            scope: Scope {
                owner: TokenId(0),
                session_id: "s".into(),
            },
            message_id: id.into(),
            client_message_id: None,
            conversation_id: "c".into(),
        }
    }

    fn frames(texts: Vec<&'static str>) -> BoxStream<'static, Utf8Bytes> {
        stream::iter(texts.into_iter().map(Utf8Bytes::from_static)).boxed()
    }

    #[tokio::test]
    async fn watchers_take_turns_and_each_ends_once() {
        let mut watchers = Watchers::default();
        watchers.push(meta("a"), frames(vec!["a1", "a2"]));
        watchers.push(meta("b"), frames(vec!["b1"]));
        assert!(watchers.contains("b") && !watchers.contains("c"));
        let mut seen = Vec::new();
        while !watchers.is_empty() {
            seen.push(match watchers.next().await {
                Watched::Frame(text) => text.to_string(),
                // Named by the generations still watched after it.
                Watched::Ended => format!("end, left {}", watchers.metas().count()),
            });
        }
        assert_eq!(seen, ["a1", "b1", "a2", "end, left 1", "end, left 0"]);
        assert!(!watchers.contains("a"));
    }

    #[tokio::test]
    async fn with_none_watched_nothing_is_ready() {
        let mut watchers = Watchers::default();
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(10), watchers.next()).await;
        assert!(waited.is_err());
    }
}
