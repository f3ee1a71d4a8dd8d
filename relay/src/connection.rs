//! One chat socket: reads client frames, starts and watches generations, writes relay
//! frames.
//!
//! Generations do not live here: the registry (`registry.rs`) owns them. The socket starts
//! one, or resumes one, by attaching a watcher: a stream of the generation's frames that
//! this task polls whenever the socket can take one. A dropped socket only detaches its
//! watchers (the generations keep running for the resume grace); `cancel` and a close with
//! 1000 stop them at once. An idle socket is just the WebSocket and this small struct. On
//! shutdown the socket tells the client `server_restarting`, lets the replies it watches
//! finish within the grace period, stops the rest, and closes with 1012.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::BoxStream;
use futures_util::{FutureExt, SinkExt};
use tokio::time::Instant;

use crate::auth::TokenId;
use crate::error::ErrorCode;
use crate::generation::{self, Job};
use crate::history::{AcceptError, BeginError, ConversationKey};
use crate::ids::new_id;
use crate::limits::{FrameBudget, IdleClock};
use crate::metrics::LimitHit;
use crate::protocol::{
    self, close, ChatRequest, ClientFrame, ResumeRequest, ResumeTarget, ServerFrame,
};
use crate::registry::{self, Decision, Lookup, Scope, StreamMeta};
use crate::state::AppState;

mod batch;
mod watchers;

use batch::Batch;
use watchers::{Watched, Watchers};

/// How long to wait for the peer's reply to our close frame.
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(1);

/// A socket's state beyond the WebSocket itself.
struct Connection {
    state: AppState,
    scope: Scope,
    /// The generations this socket watches, each with the stream of its frames.
    watchers: Watchers,
    drain_deadline: Option<Instant>,
    grace_over: bool,
    /// The socket's frame-rate bucket (`RELAY_FRAME_RATE`); `None`: no limit.
    frames: Option<FrameBudget>,
    /// Runs out when the socket is idle (`RELAY_IDLE_TIMEOUT_MS`); `None`: never.
    idle: Option<IdleClock>,
    /// The frames fed since the last write.
    batch: Batch,
}

/// The ids a `resume` (or a repeated `chat_message`) named, echoed when nothing is found.
struct Asked<'a> {
    message_id: Option<&'a str>,
    client_message_id: Option<&'a str>,
    conversation_id: Option<&'a str>,
}

enum Event {
    Shutdown,
    Out(Utf8Bytes),
    Flush,
    Done,
    GraceOver,
    Idle,
    Client(Option<Result<Message, axum::Error>>),
}

/// Whether to keep the socket open.
enum Flow {
    Continue,
    Stop,
}

/// Sends a close frame and waits briefly for the peer's reply.
pub async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async {
        if socket.send(Message::Close(Some(frame))).await.is_ok() {
            while let Some(Ok(_)) = socket.recv().await {}
        }
    })
    .await;
}

/// Serves an authenticated socket until either side closes it.
///
/// The socket is borrowed: an `async fn` keeps what it owns twice in its future (the argument
/// and the local it moves into), and the caller's task kept a third copy, 368 B each.
pub async fn serve(socket: &mut WebSocket, state: AppState, owner: TokenId, session_id: String) {
    let _open = state.metrics.connection();
    let frames = (state.config.limits.frame_rate)
        .map(|rate| FrameBudget::new(rate, std::time::Instant::now()));
    let idle = (state.config.limits.idle_timeout).map(|t| IdleClock::new(t, Instant::now()));
    let mut conn = Connection {
        state,
        scope: Scope { owner, session_id },
        watchers: Watchers::default(),
        drain_deadline: None,
        grace_over: false,
        frames,
        idle,
        batch: Batch::default(),
    };
    conn.run(socket).await;
}

async fn idle_expired(idle: &mut Option<IdleClock>) {
    match idle {
        Some(idle) => idle.expired().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The close a failed read calls for: a frame over the size limit (1009), or a text frame
/// that is not UTF-8 (1007). `None`: the connection itself is gone.
fn close_for(error: axum::Error) -> Option<(u16, &'static str, ErrorCode)> {
    let error = error.into_inner().downcast::<tungstenite::Error>().ok()?;
    match *error {
        tungstenite::Error::Capacity(_) => Some((
            close::TOO_LARGE,
            "message too large",
            ErrorCode::MessageTooLarge,
        )),
        tungstenite::Error::Utf8(_) => Some((
            close::INVALID_PAYLOAD,
            "text frame is not utf-8",
            ErrorCode::BadFrame,
        )),
        _ => None,
    }
}

impl Connection {
    async fn run(&mut self, socket: &mut WebSocket) {
        // A token of the socket's own, waited on by one future for the socket's life: the
        // loop polls it several times per frame, and a fresh wait on the relay-wide token each
        // time took that token's lock (shared by every socket) three times per poll.
        let shutdown_token = self.state.shutdown.child_token();
        if shutdown_token.is_cancelled() {
            close(socket, close::RESTART, "server restarting").await;
            return;
        }
        let mut shutdown = std::pin::pin!(shutdown_token.cancelled());
        loop {
            let draining = self.drain_deadline.is_some();
            let event = tokio::select! {
                biased;
                () = &mut shutdown, if !draining => Event::Shutdown,
                watched = self.watchers.next(), if !self.batch.is_full() => match watched {
                    Watched::Frame(frame) => Event::Out(frame),
                    Watched::Ended => Event::Done,
                },
                _ = sleep_until(self.drain_deadline), if draining && !self.grace_over => Event::GraceOver,
                () = idle_expired(&mut self.idle), if !draining && !self.busy() => Event::Idle,
                msg = socket.recv() => Event::Client(msg),
                // Last: nothing else is ready, so the batch fed so far is complete.
                () = std::future::ready(()), if self.batch.is_pending() => Event::Flush,
            };
            let flow = match event {
                Event::Shutdown => self.on_shutdown(socket).await,
                Event::Out(frame) => self.feed(socket, frame).await,
                Event::Flush => self.flush_batch(socket).await,
                Event::Done => self.on_done(socket).await,
                Event::GraceOver => self.on_grace_over(),
                Event::Idle => self.on_idle(socket).await,
                // Boxed, so idle tasks do not reserve its 864 B: 4.1 -> 3.7 KB per idle socket.
                Event::Client(msg) => Box::pin(self.on_client(socket, msg)).await,
            };
            if let Flow::Stop = flow {
                return;
            }
        }
    }

    /// Adds a watched generation's frame to the socket's write buffer; the loop flushes
    /// when nothing else is ready.
    async fn feed(&mut self, socket: &mut WebSocket, frame: Utf8Bytes) -> Flow {
        self.batch.feed();
        written(socket.feed(Message::Text(frame)).await)
    }

    /// Writes the frames fed since the last write (nothing else was ready, see `batch.rs`):
    /// one `send` for the batch instead of one per frame.
    async fn flush_batch(&mut self, socket: &mut WebSocket) -> Flow {
        self.batch.written();
        written(socket.flush().await)
    }

    /// Whether a watched generation has frames still to come.
    fn busy(&self) -> bool {
        !self.watchers.is_empty()
    }

    async fn on_shutdown(&mut self, socket: &mut WebSocket) -> Flow {
        if self.state.registry.is_shared() {
            // With Redis the client reconnects through the balancer to another instance and
            // resumes there, while this one finishes the answers into Redis: close at once.
            return self.flush_and_restart(socket).await;
        }
        self.drain_deadline = Some(Instant::now() + self.state.config.shutdown_grace);
        if let Flow::Stop = self
            .send_error(socket, ErrorCode::ServerRestarting, None, None)
            .await
        {
            return Flow::Stop;
        }
        if !self.busy() {
            return self.flush_and_restart(socket).await;
        }
        Flow::Continue
    }

    /// Sends the frames the watched generations have ready, then closes with 1012.
    async fn flush_and_restart(&mut self, socket: &mut WebSocket) -> Flow {
        while let Some(watched) = self.watchers.next().now_or_never() {
            if let Watched::Frame(frame) = watched {
                if let Flow::Stop = self.feed(socket, frame).await {
                    return Flow::Stop;
                }
            }
        }
        if let Flow::Stop = self.flush_batch(socket).await {
            return Flow::Stop;
        }
        close(socket, close::RESTART, "server restarting").await;
        Flow::Stop
    }

    fn on_grace_over(&mut self) -> Flow {
        self.grace_over = true;
        for meta in self.watchers.metas() {
            self.state
                .registry
                .stop(&meta.message_id, ErrorCode::ServerRestarting);
        }
        Flow::Continue
    }

    async fn on_done(&mut self, socket: &mut WebSocket) -> Flow {
        if let Some(idle) = &mut self.idle {
            // The idle clock was stopped while the reply streamed: it starts again now.
            idle.restart(Instant::now());
        }
        if self.drain_deadline.is_some() && !self.busy() {
            return self.flush_and_restart(socket).await;
        }
        Flow::Continue
    }

    async fn on_client(
        &mut self,
        socket: &mut WebSocket,
        msg: Option<Result<Message, axum::Error>>,
    ) -> Flow {
        if let (Some(Ok(_)), Some(idle)) = (&msg, &mut self.idle) {
            idle.restart(Instant::now());
        }
        if let (Some(Ok(msg)), Some(frames)) = (&msg, &mut self.frames) {
            if !matches!(msg, Message::Close(_)) && !frames.take(std::time::Instant::now()) {
                return self.too_many_frames(socket).await;
            }
        }
        match msg {
            None => Flow::Stop,
            Some(Err(error)) => {
                if let Some((code, reason, counted)) = close_for(error) {
                    tracing::info!(session_id = %self.scope.session_id, code, reason, "refused a client frame; closing");
                    self.state.metrics.error(counted);
                    close(socket, code, reason).await;
                }
                Flow::Stop
            }
            Some(Ok(Message::Text(text))) => self.on_text(socket, text.as_str()).await,
            Some(Ok(Message::Binary(_))) => {
                self.send_error(socket, ErrorCode::BadFrame, None, None)
                    .await
            }
            Some(Ok(Message::Close(frame))) => {
                // 1000 (or no code) means "I am gone": stop the replies nobody else watches.
                // Any other close (1001 on a page reload, …) keeps them for a resume.
                if frame.as_ref().is_none_or(|f| f.code == close::NORMAL) {
                    for meta in self.watchers.metas() {
                        self.state.registry.release(&meta.message_id);
                    }
                }
                // Detach now; the next read flushes the close reply and ends the loop.
                self.watchers.clear();
                Flow::Continue
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Flow::Continue,
        }
    }

    /// Nothing came from the client for `RELAY_IDLE_TIMEOUT_MS`, and no reply streams to it.
    async fn on_idle(&mut self, socket: &mut WebSocket) -> Flow {
        tracing::debug!(session_id = %self.scope.session_id, "socket idle; closing with 1001");
        self.state.metrics.limit_hit(LimitHit::Idle);
        close(socket, close::GOING_AWAY, "idle timeout").await;
        Flow::Stop
    }

    /// The socket sends faster than `RELAY_FRAME_RATE` allows: say so, then close with 1008.
    async fn too_many_frames(&mut self, socket: &mut WebSocket) -> Flow {
        tracing::warn!(session_id = %self.scope.session_id, "client over its frame rate; closing with 1008");
        if let Flow::Continue = self
            .send_error(socket, ErrorCode::TooManyFrames, None, None)
            .await
        {
            close(socket, close::POLICY, "too many frames").await;
        }
        Flow::Stop
    }

    async fn on_text(&mut self, socket: &mut WebSocket, text: &str) -> Flow {
        match protocol::decode(text) {
            Err(error) => {
                tracing::debug!(session_id = %self.scope.session_id, %error, "rejected client frame");
                self.send_error(socket, error.code(), None, None).await
            }
            Ok(ClientFrame::Ping(data)) => {
                send_text(socket, protocol::encode(&ServerFrame::Pong(&data)).into()).await
            }
            // Boxed: these await the shared store (Redis), and their futures are about 4 KiB.
            // Inline, every idle socket's task reserved that space (boxing them took relay-load's
            // idle socket from 9,895-9,908 to 5,810-5,874 B), and now every ping's box would.
            Ok(ClientFrame::ChatMessage(request)) => Box::pin(self.start(socket, request)).await,
            Ok(ClientFrame::Cancel(cancel)) => {
                Box::pin(self.cancel(&cancel.message_id)).await;
                Flow::Continue
            }
            Ok(ClientFrame::Resume(resume)) => Box::pin(self.resume(socket, resume)).await,
        }
    }

    async fn cancel(&mut self, id: &str) {
        if self.state.registry.cancel_shared(&self.scope, id).await {
            tracing::info!(session_id = %self.scope.session_id, message_id = %id, "generation cancelled by the client");
        } else {
            // Already finished (or never existed): cancelling is idempotent.
            tracing::debug!(session_id = %self.scope.session_id, message_id = %id, "cancel for no running generation");
        }
    }

    async fn start(&mut self, socket: &mut WebSocket, request: ChatRequest<'static>) -> Flow {
        let started = Instant::now();
        let state = self.state.clone();
        let client_id = request.client_message_id.as_deref();
        let asked = Asked {
            message_id: None,
            client_message_id: client_id,
            conversation_id: request.conversation_id.as_deref(),
        };
        // A message already accepted (an outbox re-sending after a reconnect) does not start
        // a second generation: it is answered as a resume from 0.
        if let Some(id) = client_id {
            let target = ResumeTarget::ClientMessageId(id);
            match state.registry.decide_shared(&self.scope, target, 0).await {
                Decision::Lost => {}
                decision => return self.answer_resume(socket, decision, &asked, 0).await,
            }
        }
        let refuse = if self.drain_deadline.is_some() {
            Some(ErrorCode::ServerRestarting)
        } else if request.message.chars().count() > state.config.max_message_chars {
            Some(ErrorCode::MessageTooLarge)
        } else if self.watchers.len() >= state.config.max_generations_per_socket {
            Some(ErrorCode::RateLimited)
        } else {
            None
        };
        if let Some(code) = refuse {
            return self.send_error(socket, code, None, client_id).await;
        }
        let conversation_id = request
            .conversation_id
            .as_deref()
            .map_or_else(|| new_id("conv"), str::to_owned);
        let key = ConversationKey {
            owner: self.scope.owner,
            session_id: self.scope.session_id.clone(),
            conversation_id: conversation_id.clone(),
        };
        let message_id = new_id("msg");
        let (turn, history) = match state.store.begin(key, &message_id).await {
            Ok(begun) => begun,
            Err(BeginError::Busy) => {
                return self
                    .send_error(socket, ErrorCode::Busy, None, client_id)
                    .await
            }
            Err(_) => return self.store_unavailable(socket, client_id).await,
        };
        let meta = StreamMeta {
            scope: self.scope.clone(),
            message_id: message_id.clone(),
            client_message_id: client_id.map(str::to_owned),
            conversation_id: conversation_id.clone(),
        };
        // With a shared store, the client id may have been accepted by another instance
        // (an outbox re-sending after reconnecting elsewhere): never answer it twice.
        match state.store.accept_client_id(&meta).await {
            Ok(()) => {}
            Err(AcceptError::Taken(accepted)) => {
                turn.release().await;
                let target = ResumeTarget::ClientMessageId(client_id.unwrap_or_default());
                let decision = registry::resume::decide(target, Lookup::Expired(accepted), 0);
                return self.answer_resume(socket, decision, &asked, 0).await;
            }
            Err(_) => {
                turn.release().await;
                return self.store_unavailable(socket, client_id).await;
            }
        }
        let Ok(permit) = state.upstream_slots.clone().try_acquire_owned() else {
            turn.release().await;
            tracing::warn!(
                max = state.config.max_upstream,
                "RELAY_MAX_UPSTREAM reached; refusing a generation"
            );
            return self
                .send_error(socket, ErrorCode::RateLimited, None, client_id)
                .await;
        };
        let job = Job {
            message_id: message_id.clone(),
            conversation_id: conversation_id.clone(),
            client_message_id: meta.client_message_id.clone(),
            user: request.message.into_owned(),
            history,
            turn,
            permit,
            started,
        };
        let history_len = job.history.len();
        let provider = state.provider.clone();
        let metrics = state.metrics.clone();
        let grace = state.registry.grace();
        let opened = state
            .registry
            .start(meta.clone(), move |publisher, control| {
                generation::run(job, provider, metrics, publisher, control, grace)
            });
        let Ok(watcher) = opened else {
            // Another socket accepted the same client id a moment ago: resume that one.
            let target = ResumeTarget::ClientMessageId(client_id.unwrap_or_default());
            let decision = state.registry.decide(&self.scope, target, 0);
            let asked = Asked {
                message_id: None,
                client_message_id: meta.client_message_id.as_deref(),
                conversation_id: Some(&conversation_id),
            };
            return self.answer_resume(socket, decision, &asked, 0).await;
        };
        tracing::info!(session_id = %self.scope.session_id, %conversation_id, %message_id, history = history_len, "generation started");
        self.keep_watching(meta, watcher);
        Flow::Continue
    }

    /// Attaches a watcher of `meta` from `offset`; false when the generation is gone.
    fn attach(&mut self, meta: StreamMeta, offset: u64) -> bool {
        let Some(frames) = self.state.registry.watch(&meta, offset) else {
            return false;
        };
        self.keep_watching(meta, frames);
        true
    }

    /// Polls the watcher's `frames` in this task until they end.
    fn keep_watching(&mut self, meta: StreamMeta, frames: BoxStream<'static, Utf8Bytes>) {
        if self.grace_over {
            self.state
                .registry
                .stop(&meta.message_id, ErrorCode::ServerRestarting);
        }
        self.watchers.push(meta, frames);
    }

    async fn resume(&mut self, socket: &mut WebSocket, resume: ResumeRequest<'static>) -> Flow {
        // `decode` checked the target already.
        let Ok(target) = resume.target() else {
            return self
                .send_error(socket, ErrorCode::BadFrame, None, None)
                .await;
        };
        let decision = self
            .state
            .registry
            .decide_shared(&self.scope, target, resume.offset)
            .await;
        let asked = Asked {
            message_id: resume.message_id.as_deref(),
            client_message_id: resume.client_message_id.as_deref(),
            conversation_id: resume.conversation_id.as_deref(),
        };
        self.answer_resume(socket, decision, &asked, resume.offset)
            .await
    }

    /// Sends `resumed` (and `stream_expired` when the generation was known but its frames
    /// are gone), and attaches a watcher when the generation can be continued.
    async fn answer_resume(
        &mut self,
        socket: &mut WebSocket,
        decision: Decision,
        asked: &Asked<'_>,
        offset: u64,
    ) -> Flow {
        let (meta, recovered) = match decision {
            Decision::Lost => (None, false),
            Decision::Expired(meta) => (Some(meta), false),
            Decision::UpToDate(meta) => (Some(meta), true),
            Decision::Attach(meta) => {
                // Already watched here: the frames after `offset` are on their way.
                let recovered =
                    self.watchers.contains(&meta.message_id) || self.attach(meta.clone(), offset);
                (Some(meta), recovered)
            }
        };
        self.state.metrics.resume(recovered);
        let frame = match &meta {
            Some(meta) => ServerFrame::Resumed {
                message_id: Some(meta.message_id.as_str().into()),
                client_message_id: meta.client_message_id.as_deref().map(Into::into),
                conversation_id: Some(meta.conversation_id.as_str().into()),
                offset,
                recovered,
            },
            None => ServerFrame::Resumed {
                message_id: asked.message_id.map(Into::into),
                client_message_id: asked.client_message_id.map(Into::into),
                conversation_id: asked.conversation_id.map(Into::into),
                offset,
                recovered,
            },
        };
        tracing::debug!(session_id = %self.scope.session_id, recovered, offset, "resume answered");
        if let Flow::Stop = send_text(socket, protocol::encode(&frame).into()).await {
            return Flow::Stop;
        }
        match meta {
            Some(meta) if !recovered => {
                self.send_error(
                    socket,
                    ErrorCode::StreamExpired,
                    Some(&meta.message_id),
                    meta.client_message_id.as_deref(),
                )
                .await
            }
            _ => Flow::Continue,
        }
    }

    /// The shared store (Redis) is unreachable: the message is refused with a retryable
    /// error. `server_restarting` is the retryable code whose advice fits (reconnect, maybe
    /// through another instance, and send again); the wire protocol has no store-specific one.
    async fn store_unavailable(
        &mut self,
        socket: &mut WebSocket,
        client_message_id: Option<&str>,
    ) -> Flow {
        tracing::warn!(session_id = %self.scope.session_id, "conversation store (Redis) unavailable; chat message refused");
        self.send_error(socket, ErrorCode::ServerRestarting, None, client_message_id)
            .await
    }

    async fn send_error(
        &mut self,
        socket: &mut WebSocket,
        code: ErrorCode,
        message_id: Option<&str>,
        client_message_id: Option<&str>,
    ) -> Flow {
        self.state.metrics.error(code);
        let frame = protocol::encode(&ServerFrame::error(
            code,
            message_id,
            client_message_id,
            None,
        ));
        send_text(socket, frame.into()).await
    }
}

async fn send_text(socket: &mut WebSocket, frame: Utf8Bytes) -> Flow {
    written(socket.send(Message::Text(frame)).await)
}

/// Whether the socket goes on after a write. A client that stops reading needs no timeout
/// here: the connection's own write-stall clock (`limits/guarded.rs`,
/// `RELAY_WRITE_TIMEOUT_MS`) fails its writes, which ends the socket and detaches its
/// watchers, so the generations run on for the resume grace and no longer wait for it.
/// (A 30 s timeout around every write was removed: it duplicated that clock, 10 s by
/// default, and read the time on every frame.)
fn written(result: Result<(), axum::Error>) -> Flow {
    match result {
        Ok(()) => Flow::Continue,
        Err(_) => Flow::Stop,
    }
}
