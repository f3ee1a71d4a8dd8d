//! One generation: a user message in, a streamed answer (or one error frame) out.
//!
//! A generation is a future polled by its connection's task, not a task of its own, so an
//! idle socket costs nothing here and dropping the future drops the upstream request at once.
//! Frames go to the connection through a small bounded channel (a slow browser slows the
//! upstream read rather than growing a buffer). Every generation ends with exactly one of
//! `stream_complete`, `chat_message` or an `error` carrying its `message_id`.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit};
use tokio::time::Instant;

use crate::error::ErrorCode;
use crate::history::{Turn, TurnGuard};
use crate::metrics::Metrics;
use crate::protocol::{self, Role, ServerFrame};
use crate::provider::{Prompt, Provider, Reply};

/// Sends a generation's tokens to the browser, numbering them and keeping the answer text.
pub struct Emitter {
    out: mpsc::Sender<Utf8Bytes>,
    message_id: String,
    seq: u64,
    reasoning_seq: u64,
    offset: u64,
    content: String,
    started: Instant,
    metrics: Arc<Metrics>,
}

impl Emitter {
    /// An emitter for `message_id`, whose clock started when the message arrived.
    pub fn new(
        out: mpsc::Sender<Utf8Bytes>,
        message_id: String,
        started: Instant,
        metrics: Arc<Metrics>,
    ) -> Emitter {
        Emitter {
            out,
            message_id,
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
        let frame = protocol::encode(&ServerFrame::StreamToken {
            message_id: self.message_id.as_str().into(),
            token: token.into(),
            seq: self.seq,
            offset,
        });
        self.seq += 1;
        self.content.push_str(token);
        self.metrics.token();
        self.send(frame).await;
    }

    /// Sends a piece of reasoning as `reasoning_token` (never added to the answer text).
    pub async fn reasoning(&mut self, token: &str) {
        if token.is_empty() {
            return;
        }
        self.first_token_check();
        let offset = self.next_offset();
        let frame = protocol::encode(&ServerFrame::ReasoningToken {
            message_id: self.message_id.as_str().into(),
            token: token.into(),
            seq: self.reasoning_seq,
            offset,
        });
        self.reasoning_seq += 1;
        self.metrics.reasoning_token();
        self.send(frame).await;
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

    async fn send(&self, frame: String) {
        // The receiver lives in the task polling this future, so it outlives it.
        let _ = self.out.send(Utf8Bytes::from(frame)).await;
    }
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

/// Runs one generation to its end (or until `stop` fires) and returns its `message_id`.
pub async fn run(
    job: Job,
    provider: Provider,
    metrics: Arc<Metrics>,
    out: mpsc::Sender<Utf8Bytes>,
    stop: oneshot::Receiver<ErrorCode>,
) -> String {
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
    let _active = metrics.stream();
    let mut emitter = Emitter::new(
        out.clone(),
        message_id.clone(),
        started,
        Arc::clone(&metrics),
    );
    let prompt = Prompt { history, user };
    let outcome = tokio::select! {
        result = provider.generate(&prompt, &mut emitter) => result.map_err(|e| {
            tracing::warn!(message_id = %message_id, code = %e.code(), error = %e, "generation failed");
            e.code()
        }),
        reason = stop => Err(reason.unwrap_or(ErrorCode::Cancelled)),
    };
    // The upstream request is gone by now: release the slot before talking to the browser.
    drop(permit);
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
        Ok(Reply::Streamed { .. }) => turn.commit(prompt.user, emitter.content().to_owned()),
        Ok(Reply::Whole { content }) => turn.commit(prompt.user, content),
        Err(_) => drop(turn),
    }
    let _ = out.send(Utf8Bytes::from(frame)).await;
    message_id
}
