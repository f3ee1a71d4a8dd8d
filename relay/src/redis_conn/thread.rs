//! The thread the relay's Redis commands run on, and the connection type that hands each
//! command to it.

use std::future::Future;
use std::sync::Arc;

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{Cmd, Pipeline, RedisFuture, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The thread every Redis command and connection driver runs on, with a single-threaded
/// runtime of its own.
///
/// On the relay's own workers a command's round trip waits for the caller, then redis-rs's
/// connection driver, then the caller again to be polled. Under unpaced overload (1,000
/// streams) one pass over the workers' ready tasks took up to 0.3–1.1 s, so commands hit
/// their 2 s timeout against an idle redis-server, and chat messages were refused with
/// `server_restarting` (49–239 per relay-load Redis phase). Here the command and its
/// timeout run beside the driver; the caller waits for the workers once, for the answer.
pub(super) struct RedisThread {
    handle: tokio::runtime::Handle,
    /// Dropped with the last handle on this thread; the thread then stops its runtime,
    /// dropping the drivers and their sockets.
    _stop: oneshot::Sender<()>,
}

impl RedisThread {
    pub(super) fn start() -> std::io::Result<RedisThread> {
        let (stop, stopped) = oneshot::channel::<()>();
        let (started, handle) = std::sync::mpsc::channel();
        // The runtime is built, run and dropped on its thread only: a runtime dropped by an
        // async caller (`Redis::open` in a test) would panic.
        std::thread::Builder::new()
            .name("chatwire-redis".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                match runtime {
                    Ok(runtime) => {
                        let _ = started.send(Ok(runtime.handle().clone()));
                        // Returns once `_stop` is dropped.
                        let _ = runtime.block_on(stopped);
                    }
                    Err(error) => {
                        let _ = started.send(Err(error));
                    }
                }
            })?;
        let handle = handle
            .recv()
            .map_err(|_| std::io::Error::other("the Redis thread ended at start"))??;
        Ok(RedisThread {
            handle,
            _stop: stop,
        })
    }

    /// Runs `task` on this thread.
    pub(super) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) -> JoinHandle<()> {
        self.handle.spawn(task)
    }

    /// Runs `work` on this thread and waits for its result.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = redis::RedisResult<T>> + Send + 'static,
    ) -> redis::RedisResult<T> {
        match self.handle.spawn(work).await {
            Ok(result) => result,
            Err(failed) => Err(redis::RedisError::from((
                redis::ErrorKind::IoError,
                if failed.is_panic() {
                    "a Redis command panicked"
                } else {
                    "the Redis thread stopped"
                },
                failed.to_string(),
            ))),
        }
    }
}

/// A connection whose commands run on the Redis thread; use it as any redis-rs async
/// connection (`query_async(&mut conn)`). Each command is copied once to cross threads.
#[derive(Clone)]
pub struct RedisConnection<C = ConnectionManager> {
    inner: C,
    thread: Arc<RedisThread>,
}

impl<C> RedisConnection<C> {
    /// `inner`, its commands run on `thread`.
    pub(super) fn new(inner: C, thread: Arc<RedisThread>) -> RedisConnection<C> {
        RedisConnection { inner, thread }
    }
}

impl<C> ConnectionLike for RedisConnection<C>
where
    C: ConnectionLike + Clone + Send + 'static,
{
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        let (mut inner, cmd) = (self.inner.clone(), cmd.clone());
        Box::pin(
            self.thread
                .run(async move { inner.req_packed_command(&cmd).await }),
        )
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let (mut inner, pipeline) = (self.inner.clone(), pipeline.clone());
        Box::pin(
            self.thread
                .run(async move { inner.req_packed_commands(&pipeline, offset, count).await }),
        )
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}
