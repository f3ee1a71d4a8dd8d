//! Where replies come from: an OpenAI-compatible streaming API, or the offline provider that
//! answers when no API key is configured.
//!
//! A provider writes tokens into an [`Emitter`] as they arrive and returns how the reply
//! ended; framing them for the browser, history and metrics are the generation's business.

pub mod http1_pool;
pub mod models;
pub mod offline;
pub mod openai;
pub mod sse;

use serde_json::Value;

use crate::config::UpstreamConfig;
use crate::error::GenerationError;
use crate::generation::Emitter;
use crate::history::Turn;
use crate::metrics::Metrics;
use crate::redact::Redactor;

/// What to answer: the conversation so far and the new user message.
#[derive(Debug, Clone)]
pub struct Prompt {
    /// Earlier turns (answer text only).
    pub history: Vec<Turn>,
    /// The new user message.
    pub user: String,
}

/// How a reply ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Streamed through the emitter; the text is in [`Emitter::content`].
    Streamed {
        /// Upstream's finish reason (`stop` when it only sent `[DONE]`).
        finish_reason: String,
        /// Upstream's usage, when reported.
        usage: Option<Value>,
    },
    /// Upstream ignored `stream: true` and answered with one JSON body.
    Whole {
        /// The answer text.
        content: String,
    },
}

/// The reply source the relay was started with.
#[derive(Debug, Clone)]
pub enum Provider {
    /// Canned replies built from the user's message; no network.
    Offline(offline::OfflineProvider),
    /// An OpenAI-compatible `/chat/completions` endpoint (shared: generations clone this).
    OpenAi(std::sync::Arc<openai::OpenAiProvider>),
}

impl Provider {
    /// Builds the provider for `config`, discovering the model when none is configured.
    pub async fn start(
        config: &UpstreamConfig,
        redactor: Redactor,
        metrics: std::sync::Arc<Metrics>,
    ) -> Provider {
        match &config.api_key {
            None => Provider::Offline(offline::OfflineProvider::new(config.offline_token_delay)),
            Some(_) => Provider::OpenAi(std::sync::Arc::new(
                openai::OpenAiProvider::start(config, redactor, metrics).await,
            )),
        }
    }

    /// Streams the reply to `prompt` into `emitter`.
    pub async fn generate(
        &self,
        prompt: &Prompt,
        emitter: &mut Emitter,
    ) -> Result<Reply, GenerationError> {
        match self {
            Provider::Offline(p) => p.generate(prompt, emitter).await,
            Provider::OpenAi(p) => p.generate(prompt, emitter).await,
        }
    }

    /// `offline` or `openai`.
    pub fn kind(&self) -> &'static str {
        match self {
            Provider::Offline(_) => "offline",
            Provider::OpenAi(_) => "openai",
        }
    }

    /// The model in use (`offline` for the offline provider).
    pub fn model(&self) -> &str {
        match self {
            Provider::Offline(_) => "offline",
            Provider::OpenAi(p) => p.model(),
        }
    }
}
