//! One generation: a user message in, a streamed answer (or one error frame) out.
//!
//! A generation is a task of its own, owned by the registry (`registry.rs`), not by the
//! socket that started it: its frames go into the registry's store, from which every socket
//! watching it reads them, so a dropped socket loses nothing and a resume continues the
//! reply. The task obeys its [`Control`]: a stop (`cancel`, shutdown) ends it with that
//! error; nobody watching for the resume grace drops it, and with it the upstream request.
//! Every generation ends with exactly one of `stream_complete`, `chat_message` or an
//! `error` carrying its `message_id`, unless it was abandoned (then nobody can resume it).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{watch, OwnedSemaphorePermit};
use tokio::time::Instant;

use crate::error::ErrorCode;
use crate::history::{Turn, TurnGuard};
use crate::metrics::Metrics;
use crate::protocol::{self, FrameWriter, Role, ServerFrame};
use crate::provider::{Prompt, Provider, Reply};
use crate::registry::{Control, Followed, Publisher, StoredFrame};

/// Sends a generation's tokens to the browser, numbering them and keeping the answer text.
pub struct Emitter {
    publisher: Publisher,
    writer: FrameWriter,
    /// Named in the generation's first frame, so the client links the chat to the reply.
    client_message_id: Option<String>,
    seq: u64,
    reasoning_seq: u64,
    offset: u64,
    content: String,
    started: Instant,
    metrics: Arc<Metrics>,
}

impl Emitter {
    /// An emitter publishing through `publisher`, whose clock started when the message
    /// arrived.
    pub fn new(
        publisher: Publisher,
        client_message_id: Option<String>,
        started: Instant,
        metrics: Arc<Metrics>,
    ) -> Emitter {
        Emitter {
            publisher,
            writer: FrameWriter::default(),
            client_message_id,
            seq: 0,
            reasoning_seq: 0,
            offset: 0,
            content: String::new(),
            started,
            metrics,
        }
    }

    fn first_token_check(&self) {
        if !self.emitted_any() {
            self.metrics.first_token(self.started.elapsed());
        }
    }

    /// Sends a piece of the answer as `stream_token`.
    pub async fn answer(&mut self, token: &str) {
        if token.is_empty() {
            return;
        }
        self.first_token_check();
        let offset = self.next_offset();
        let frame = self.writer.encode(&ServerFrame::StreamToken {
            message_id: self.publisher.message_id().into(),
            client_message_id: first_frame_client_id(&self.client_message_id, offset),
            token: token.into(),
            seq: self.seq,
            offset,
        });
        self.seq += 1;
        self.content.push_str(token);
        self.metrics.token();
        self.send(offset, false, frame).await;
    }

    /// Sends a piece of reasoning as `reasoning_token` (never added to the answer text).
    pub async fn reasoning(&mut self, token: &str) {
        if token.is_empty() {
            return;
        }
        self.first_token_check();
        let offset = self.next_offset();
        let frame = self.writer.encode(&ServerFrame::ReasoningToken {
            message_id: self.publisher.message_id().into(),
            client_message_id: first_frame_client_id(&self.client_message_id, offset),
            token: token.into(),
            seq: self.reasoning_seq,
            offset,
        });
        self.reasoning_seq += 1;
        self.metrics.reasoning_token();
        self.send(offset, false, frame).await;
    }

    /// The offset of the generation's next frame (they count from 1 across all its frames).
    fn next_offset(&mut self) -> u64 {
        self.offset += 1;
        self.offset
    }

    /// Whether any token (answer or reasoning) has been sent; retries stop once one has.
    pub fn emitted_any(&self) -> bool {
        self.seq > 0 || self.reasoning_seq > 0
    }

    /// The answer text so far.
    pub fn content(&self) -> &str {
        &self.content
    }

    async fn send(&self, offset: u64, terminal: bool, text: Utf8Bytes) {
        self.publisher
            .publish(StoredFrame {
                offset,
                terminal,
                text,
            })
            .await;
    }
}

/// The `client_message_id` for the frame at `offset`: only the first frame names it.
fn first_frame_client_id(
    client_message_id: &Option<String>,
    offset: u64,
) -> Option<std::borrow::Cow<'_, str>> {
    (offset == 1)
        .then_some(client_message_id.as_deref())
        .flatten()
        .map(Into::into)
}

/// Everything a generation needs, prepared by the connection.
pub struct Job {
    /// Relay-assigned id.
    pub message_id: String,
    /// Conversation (as sent or assigned).
    pub conversation_id: String,
    /// The browser's id, echoed back.
    pub client_message_id: Option<String>,
    /// The user message.
    pub user: String,
    /// The conversation so far.
    pub history: Vec<Turn>,
    /// Holds the conversation busy; commits the exchange on success.
    pub turn: TurnGuard,
    /// A slot of the global upstream cap.
    pub permit: OwnedSemaphorePermit,
    /// When the message arrived (for time to first token).
    pub started: Instant,
}

/// How the upstream part of a generation ended.
enum Outcome {
    /// The provider finished (or failed).
    Ended(Result<Reply, ErrorCode>),
    /// Stopped by its control (`cancel`, shutdown).
    Stopped(ErrorCode),
    /// Nobody watched it for the resume grace.
    Abandoned,
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Runs one generation to its end (or until its control stops it or nobody watches it for
/// `grace`), then keeps it (its frames stay in the store) until nobody has watched it for
/// `grace`.
pub async fn run(
    job: Job,
    provider: Provider,
    metrics: Arc<Metrics>,
    publisher: Publisher,
    mut control: watch::Receiver<Control>,
    grace: Duration,
) {
    // Everything the reply needed (history, prompt, text) is freed before the wait.
    if answer(job, provider, metrics, publisher, &mut control, grace).await {
        keep_for_resume(&mut control, grace).await;
    }
}

/// Waits until nobody has watched the finished generation for `grace`.
async fn keep_for_resume(control: &mut watch::Receiver<Control>, grace: Duration) {
    loop {
        // Finished: followers elsewhere read its frames from Redis, not from here.
        let abandon_at = control.borrow_and_update().abandon_at(grace, None);
        tokio::select! {
            () = sleep_until(abandon_at) => return,
            changed = control.changed() => if changed.is_err() { return },
        }
    }
}

/// Streams the reply and publishes its terminal frame; false when it was abandoned (no
/// terminal frame: nobody can resume it).
async fn answer(
    job: Job,
    provider: Provider,
    metrics: Arc<Metrics>,
    publisher: Publisher,
    control: &mut watch::Receiver<Control>,
    grace: Duration,
) -> bool {
    let Job {
        message_id,
        conversation_id,
        client_message_id,
        user,
        history,
        turn,
        permit,
        started,
    } = job;
    let active = metrics.stream();
    let remote_followers = publisher.remote_followers();
    let mut emitter = Emitter::new(
        publisher,
        client_message_id.clone(),
        started,
        Arc::clone(&metrics),
    );
    let prompt = Prompt { history, user };
    let outcome = {
        // Boxed: the task outlives the request (it keeps the frames for the resume grace),
        // and the provider's future is by far its largest part.
        let mut generate = Box::pin(provider.generate(&prompt, &mut emitter));
        let mut followed_elsewhere_until = None;
        loop {
            let now = *control.borrow_and_update();
            if let Some(reason) = now.stop {
                break Outcome::Stopped(reason);
            }
            tokio::select! {
                result = &mut generate => break Outcome::Ended(result.map_err(|e| {
                    tracing::warn!(message_id = %message_id, code = %e.code(), error = %e, "generation failed");
                    e.code()
                })),
                changed = control.changed() => if changed.is_err() {
                    break Outcome::Stopped(ErrorCode::Cancelled);
                },
                () = sleep_until(now.abandon_at(grace, followed_elsewhere_until)) => {
                    // Nobody here for the grace: does a socket on another instance follow it?
                    let followed = match &remote_followers {
                        Some(remote) => remote.check().await,
                        None => Followed::Not,
                    };
                    followed_elsewhere_until = followed.keep_until(Instant::now());
                    if followed_elsewhere_until.is_none() {
                        break Outcome::Abandoned;
                    }
                }
            }
        }
    };
    // The upstream request is gone by now: release the slot before anything else.
    drop(permit);
    let outcome = match outcome {
        Outcome::Ended(result) => result,
        Outcome::Stopped(reason) => Err(reason),
        Outcome::Abandoned => {
            tracing::info!(message_id = %message_id, ?grace, "nobody resumed the generation within the grace; upstream request dropped");
            metrics.grace_expired();
            return false;
        }
    };
    let offset = emitter.next_offset();
    let frame = match &outcome {
        Ok(Reply::Streamed {
            finish_reason,
            usage,
        }) => protocol::encode(&ServerFrame::StreamComplete {
            message_id: message_id.as_str().into(),
            conversation_id: conversation_id.as_str().into(),
            client_message_id: client_message_id.as_deref().map(Into::into),
            content: emitter.content().into(),
            finish_reason: finish_reason.as_str().into(),
            usage: usage.as_ref(),
            offset,
        }),
        Ok(Reply::Whole { content }) => protocol::encode(&ServerFrame::ChatMessage {
            message_id: message_id.as_str().into(),
            role: Role::Assistant,
            content: content.as_str().into(),
            conversation_id: conversation_id.as_str().into(),
            client_message_id: client_message_id.as_deref().map(Into::into),
            offset,
        }),
        Err(code) => {
            metrics.error(*code);
            protocol::encode(&ServerFrame::error(
                *code,
                Some(&message_id),
                client_message_id.as_deref(),
                Some(offset),
            ))
        }
    };
    // Record the exchange before the browser can see the end of it, so an immediate
    // follow-up finds the conversation free and its history complete.
    match outcome {
        Ok(Reply::Streamed { .. }) => {
            turn.commit(prompt.user, emitter.content().to_owned()).await;
        }
        Ok(Reply::Whole { content }) => turn.commit(prompt.user, content).await,
        Err(_) => turn.release().await,
    }
    emitter.send(offset, true, frame.into()).await;
    drop(active);
    true
}
