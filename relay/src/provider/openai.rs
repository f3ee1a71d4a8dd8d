//! The OpenAI-compatible streaming client (DeepSeek by default).
//!
//! One generation is `POST {base}/chat/completions` with `stream: true` and
//! `stream_options.include_usage`. Failures map to typed [`GenerationError`]s; 429, 5xx and
//! connection failures are retried with jittered backoff, but only while no token has reached
//! the client (a retry after that would repeat text). Three clocks bound a reply: the connect
//! timeout, the first-token deadline and the idle gap between chunks (any bytes, including
//! `: keep-alive` comments, count as life). Upstream error bodies are logged redacted and
//! never forwarded. Completions are read by the generation's own task over HTTP/1.1
//! (`http1_pool.rs`), unless a proxy is configured for the upstream: then through reqwest,
//! which honours it.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::StatusCode;
use serde_json::json;
use tokio::time::Instant;

use super::http1_pool::{self, Http1Pool};
use super::sse::{self, SseData};
use super::{models, Prompt, Reply};
use crate::backoff::Backoff;
use crate::config::UpstreamConfig;
use crate::error::GenerationError;
use crate::generation::Emitter;
use crate::limits::IdleClock;
use crate::metrics::Metrics;
use crate::redact::Redactor;

/// Most bytes of an upstream error body read for the log.
const ERROR_BODY_LIMIT: usize = 4096;

/// A configured OpenAI-compatible upstream.
#[derive(Clone)]
pub struct OpenAiProvider {
    client: reqwest::Client,
    /// Where every completions request goes and what it carries, made once.
    completions: Result<Completions, String>,
    /// The connections the generation's own task reads completions on; `None` when a proxy
    /// is configured for the upstream (see [`proxy_configured`]): reqwest carries them then.
    in_task: Option<Arc<Http1Pool>>,
    config: UpstreamConfig,
    api_key: Arc<str>,
    model: Arc<str>,
    redactor: Redactor,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiProvider")
            .field("base_url", &self.config.base_url)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

/// What every completions request carries, whichever client sends it.
#[derive(Clone)]
struct Completions {
    /// `{base}/chat/completions`.
    url: reqwest::Url,
    /// The key, JSON in, SSE out, and the `User-Agent`.
    headers: HeaderMap,
}

impl Completions {
    /// An error when the key cannot go in a header (the configuration refuses such keys
    /// first): every request then fails with it, as reqwest's `bearer_auth` would.
    fn new(config: &UpstreamConfig, api_key: &str) -> Result<Completions, String> {
        let url = reqwest::Url::parse(&format!("{}/chat/completions", config.base_url))
            .map_err(|e| format!("completions URL: {e}"))?;
        let mut authorization = HeaderValue::try_from(format!("Bearer {api_key}"))
            .map_err(|_| "the API key cannot be sent in a header".to_owned())?;
        authorization.set_sensitive(true);
        let headers = HeaderMap::from_iter([
            (header::AUTHORIZATION, authorization),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::ACCEPT,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::USER_AGENT, HeaderValue::from_static(USER_AGENT)),
        ]);
        Ok(Completions { url, headers })
    }
}

/// The `User-Agent` sent upstream.
const USER_AGENT: &str = concat!("chatwire-relay/", env!("CARGO_PKG_VERSION"));

/// An upstream response, whichever client carried it.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: BodyStream,
}

/// A response body's bytes; an error says why the body broke off.
type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, String>> + Send>>;

impl Answer {
    fn from_reqwest(response: reqwest::Response) -> Answer {
        Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: Box::pin(
                response
                    .bytes_stream()
                    .map_err(|e| e.without_url().to_string()),
            ),
        }
    }
}

/// Whether the environment names a proxy for `scheme` (`http` or `https`), the way reqwest
/// reads it: `{scheme}_proxy` or `all_proxy`, in lower or upper case, not empty. reqwest then
/// carries the completions, honouring it and `NO_PROXY`; the in-task client speaks to the
/// upstream directly.
fn proxy_configured(scheme: &str, env: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    [format!("{scheme}_proxy"), "all_proxy".to_owned()]
        .into_iter()
        .flat_map(|name| [name.to_uppercase(), name])
        .any(|name| env(&name).is_some_and(|value| !value.is_empty()))
}

/// A failed attempt and whether another attempt may help.
struct Failure {
    error: GenerationError,
    retryable: bool,
    retry_after: Option<Duration>,
}

impl Failure {
    fn fatal(error: GenerationError) -> Failure {
        Failure {
            error,
            retryable: false,
            retry_after: None,
        }
    }

    fn transient(error: GenerationError) -> Failure {
        Failure {
            error,
            retryable: true,
            retry_after: None,
        }
    }
}

/// Why reading the upstream body stopped.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("no data from upstream for {0:?}")]
    Idle(Duration),
    #[error("{0}")]
    Transport(String),
}

/// Yields [`BodyError::Idle`] when the inner stream stays silent for longer than its
/// timeout. Each chunk only restarts the [`IdleClock`]: resetting a timer on every chunk
/// (one timer-wheel update per token) showed up in the relay's profile at 1,000 unpaced
/// streams.
struct IdleTimeout<S> {
    inner: S,
    clock: IdleClock,
}

impl<S> IdleTimeout<S> {
    fn new(inner: S, idle: Duration) -> Self {
        IdleTimeout {
            inner,
            clock: IdleClock::new(idle, Instant::now()),
        }
    }
}

impl<S> Stream for IdleTimeout<S>
where
    S: Stream<Item = Result<Bytes, String>> + Unpin,
{
    type Item = Result<Bytes, BodyError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(item) = self.inner.poll_next_unpin(cx) {
            self.clock.restart(Instant::now());
            return Poll::Ready(item.map(|r| r.map_err(BodyError::Transport)));
        }
        ready!(self.clock.poll_expired(cx));
        Poll::Ready(Some(Err(BodyError::Idle(self.clock.timeout()))))
    }
}

impl OpenAiProvider {
    /// Builds the client and settles the model (configured, discovered, or the fallback).
    pub async fn start(config: &UpstreamConfig, redactor: Redactor, metrics: Arc<Metrics>) -> Self {
        // The client for listing models, and for completions through a proxy. Otherwise the
        // generation's own task reads completions (`http1_pool.rs`): reqwest runs each
        // connection in a task of its own and hands every chunk to the generation through a
        // channel. relay-load, `--profile server`, three alternating runs each (3 December),
        // that path against reqwest, both over plain HTTP: 1,000 unpaced streams 390k–488k
        // tokens/s at 2.0–2.3 relay CPU-s per Mtok, against 168k–312k at 3.6–5.7; 1,000 × 100
        // tokens/s added p99 113–126 ms against 164–407 ms; 100 × 100 tokens/s within the
        // noise (0.62–1.02 against 0.71–0.81 ms). Over TLS (`relay-load --upstream-tls on`,
        // three alternating runs each, quiet machine), against reqwest with the socket's old
        // yield before each write (what `https://` upstreams had): 1,000 × 100 tokens/s added
        // p99 47.8–52.6 ms against 87.2–97.2; 1,000 unpaced 335k–402k tokens/s at 2.3–2.7
        // CPU-s per Mtok against 283k–292k at 3.7–3.8; 100 × 100 tokens/s 0.30–0.35 against
        // 0.27–0.31 ms. The fake upstream speaks HTTP/1.1 only, so reqwest used HTTP/1.1 there;
        // against DeepSeek it would negotiate HTTP/2 (not measured: no h2 upstream here).
        let client = config
            .extra_roots
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok())
            .fold(reqwest::Client::builder(), |builder, root| {
                builder.add_root_certificate(root)
            })
            .connect_timeout(config.connect_timeout)
            .tcp_nodelay(true)
            .user_agent(USER_AGENT)
            .build()
            .unwrap_or_default();
        let api_key: Arc<str> = config.api_key.clone().unwrap_or_default().into();
        let model = match &config.model {
            Some(model) => model.clone(),
            None => {
                match models::list(
                    &client,
                    &config.base_url,
                    &api_key,
                    config.first_token_timeout.min(Duration::from_secs(15)),
                )
                .await
                {
                    Ok(ids) if !ids.is_empty() => {
                        tracing::info!(model = %ids[0], available = ?ids, "DEEPSEEK_MODEL unset; using the first model upstream lists");
                        ids[0].clone()
                    }
                    Ok(_) => {
                        tracing::warn!(
                            fallback = models::FALLBACK_MODEL,
                            "upstream listed no models; using the fallback"
                        );
                        models::FALLBACK_MODEL.to_owned()
                    }
                    Err(e) => {
                        tracing::warn!(error = %redactor.redact(&e), fallback = models::FALLBACK_MODEL, "model discovery failed; using the fallback");
                        models::FALLBACK_MODEL.to_owned()
                    }
                }
            }
        };
        let completions = Completions::new(config, &api_key);
        let in_task = completions.as_ref().ok().and_then(|completions| {
            let url = &completions.url;
            if proxy_configured(url.scheme(), |name| std::env::var_os(name)) {
                tracing::info!("a proxy is configured for the upstream: completions go through reqwest, which honours it");
                return None;
            }
            Http1Pool::for_url(
                url,
                config.connect_timeout,
                http1_pool::trusted_roots(&config.extra_roots),
            )
        });
        OpenAiProvider {
            client,
            in_task,
            completions,
            config: config.clone(),
            api_key,
            model: model.into(),
            redactor,
            metrics,
        }
    }

    /// The model id sent upstream.
    pub fn model(&self) -> &str {
        &self.model
    }

    fn request_body(&self, prompt: &Prompt) -> Bytes {
        let mut messages: Vec<serde_json::Value> = prompt
            .history
            .iter()
            .map(|t| json!({"role": t.role.as_str(), "content": t.content}))
            .collect();
        messages.push(json!({"role": "user", "content": prompt.user}));
        let body = json!({
            "model": &*self.model,
            "messages": messages,
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
    }

    /// Streams the reply, retrying transient failures before the first token.
    pub async fn generate(
        &self,
        prompt: &Prompt,
        emitter: &mut Emitter,
    ) -> Result<Reply, GenerationError> {
        let body = self.request_body(prompt);
        let first_token_deadline = Instant::now() + self.config.first_token_timeout;
        let backoff = Backoff {
            base: self.config.backoff_base,
            max: self.config.backoff_max,
        };
        let mut attempt = 0;
        loop {
            let failure = match self
                .attempt(body.clone(), emitter, first_token_deadline)
                .await
            {
                Ok(reply) => return Ok(reply),
                Err(failure) => failure,
            };
            attempt += 1;
            let delay = backoff.delay_for(attempt - 1, failure.retry_after);
            let may_retry = failure.retryable
                && !emitter.emitted_any()
                && attempt < self.config.max_attempts
                && Instant::now() + delay < first_token_deadline;
            if !may_retry {
                return Err(failure.error);
            }
            self.metrics.retry();
            tracing::warn!(attempt, ?delay, error = %failure.error, "upstream attempt failed before the first token; retrying");
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        body: Bytes,
        emitter: &mut Emitter,
        first_token_deadline: Instant,
    ) -> Result<Reply, Failure> {
        let answer = match tokio::time::timeout_at(first_token_deadline, self.send(body)).await {
            Err(_) => {
                return Err(Failure::fatal(GenerationError::Stalled(
                    "no response before the first-token timeout",
                )))
            }
            Ok(Err(detail)) => {
                let detail = self.redactor.redact(&detail);
                return Err(Failure::transient(GenerationError::Unavailable(format!(
                    "request failed: {detail}"
                ))));
            }
            Ok(Ok(answer)) => answer,
        };
        if !answer.status.is_success() {
            return Err(self.status_failure(answer).await);
        }
        let is_json = answer
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if is_json {
            return self.whole_reply(answer.body, first_token_deadline).await;
        }
        self.stream_reply(answer.body, emitter, first_token_deadline)
            .await
    }

    /// `POST`s the request to the completions endpoint.
    async fn send(&self, body: Bytes) -> Result<Answer, String> {
        let completions = self.completions.as_ref().map_err(Clone::clone)?;
        if let Some(in_task) = &self.in_task {
            let response = in_task
                .post(completions.url.path(), &completions.headers, body)
                .await
                .map_err(|e| e.to_string())?;
            let (parts, body) = response.into_parts();
            return Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body: Box::pin(body.map_err(|e| e.to_string())),
            });
        }
        self.client
            .post(completions.url.clone())
            .headers(completions.headers.clone())
            .body(body)
            .send()
            .await
            .map(Answer::from_reqwest)
            .map_err(|e| e.without_url().to_string())
    }

    async fn whole_reply(&self, body: BodyStream, deadline: Instant) -> Result<Reply, Failure> {
        let whole = body.try_fold(Vec::new(), |mut whole, chunk| {
            whole.extend_from_slice(&chunk);
            std::future::ready(Ok(whole))
        });
        let body = match tokio::time::timeout_at(deadline, whole).await {
            Err(_) => {
                return Err(Failure::fatal(GenerationError::Stalled(
                    "non-streamed body not received in time",
                )))
            }
            Ok(Err(detail)) => {
                return Err(Failure::transient(GenerationError::Unavailable(detail)))
            }
            Ok(Ok(body)) => body,
        };
        match sse::parse_whole(&body) {
            Ok(sse::Chunk {
                content: Some(content),
                ..
            }) => Ok(Reply::Whole {
                content: content.into_owned(),
            }),
            _ => {
                let shown =
                    String::from_utf8_lossy(&body[..body.len().min(ERROR_BODY_LIMIT)]).into_owned();
                tracing::warn!(body = %self.redactor.redact(&shown), "upstream sent a JSON body without an answer");
                Err(Failure::transient(GenerationError::Unavailable(
                    "JSON body without an answer".into(),
                )))
            }
        }
    }

    async fn stream_reply(
        &self,
        body: BodyStream,
        emitter: &mut Emitter,
        first_token_deadline: Instant,
    ) -> Result<Reply, Failure> {
        let bytes = IdleTimeout::new(body, self.config.idle_timeout);
        let mut events = std::pin::pin!(sse::events(bytes, sse::MAX_EVENT_BYTES));
        let mut finish_reason: Option<String> = None;
        let mut usage = None;
        loop {
            let next = if emitter.emitted_any() {
                events.next().await
            } else {
                match tokio::time::timeout_at(first_token_deadline, events.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        return Err(Failure::fatal(GenerationError::Stalled(
                            "no first token before the first-token timeout",
                        )))
                    }
                }
            };
            let data = match next {
                None => break,
                Some(Ok(data)) => data,
                Some(Err(sse::EventError::Transport(BodyError::Idle(idle)))) => {
                    if finish_reason.is_some() {
                        // The answer is complete; only the usage chunk or [DONE] went missing.
                        break;
                    }
                    tracing::warn!(?idle, "upstream stalled");
                    return Err(Failure::fatal(GenerationError::Stalled(
                        "no data within the idle timeout",
                    )));
                }
                Some(Err(e)) => {
                    let detail = self.redactor.redact(&e.to_string());
                    if finish_reason.is_some() {
                        tracing::debug!(error = %detail, "upstream body ended uncleanly after finish_reason");
                        break;
                    }
                    tracing::warn!(error = %detail, "upstream stream broke");
                    return Err(Failure::transient(GenerationError::Unavailable(format!(
                        "stream broke: {detail}"
                    ))));
                }
            };
            match sse::parse_data(&data) {
                Ok(SseData::Done) => {
                    return Ok(Reply::Streamed {
                        finish_reason: finish_reason.unwrap_or_else(|| "stop".to_owned()),
                        usage,
                    })
                }
                Ok(SseData::Chunk(chunk)) => {
                    if let Some(error) = chunk.error {
                        tracing::warn!(error = %self.redactor.redact(&error.to_string()), "upstream sent an in-stream error");
                        return Err(Failure::transient(GenerationError::Unavailable(
                            "in-stream error".into(),
                        )));
                    }
                    if let Some(reasoning) = &chunk.reasoning {
                        emitter.reasoning(reasoning).await;
                    }
                    if let Some(content) = &chunk.content {
                        emitter.answer(content).await;
                    }
                    if chunk.usage.is_some() {
                        usage = chunk.usage;
                    }
                    if chunk.finish_reason.is_some() {
                        finish_reason = chunk.finish_reason;
                    }
                }
                // An empty `data:` carries nothing to lose.
                Err(_) if data.trim().is_empty() => {}
                Err(e) => {
                    let shown: String = data.chars().take(200).collect();
                    tracing::warn!(error = %e, data = %self.redactor.redact(&shown), "upstream sent an undecodable event");
                    if finish_reason.is_some() {
                        break;
                    }
                    // Skipping it could silently drop part of the answer.
                    return Err(Failure::transient(GenerationError::Unavailable(
                        "undecodable event".into(),
                    )));
                }
            }
        }
        match finish_reason {
            Some(finish_reason) => Ok(Reply::Streamed {
                finish_reason,
                usage,
            }),
            None => Err(Failure::transient(GenerationError::Unavailable(
                "stream ended without finish_reason or [DONE]".into(),
            ))),
        }
    }

    async fn status_failure(&self, answer: Answer) -> Failure {
        let status = answer.status;
        let retry_after = answer
            .headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = read_limited(answer.body, self.config.idle_timeout).await;
        let body = self.redactor.redact(&body);
        tracing::warn!(status = status.as_u16(), body = %body, "upstream answered with an error");
        let model_missing = {
            let lower = body.to_ascii_lowercase();
            lower.contains("model")
                && (lower.contains("not exist")
                    || lower.contains("not found")
                    || lower.contains("does not exist")
                    || lower.contains("model_not_found"))
        };
        let code = status.as_u16();
        if code == 404 || (matches!(code, 400 | 422) && model_missing) {
            self.log_available_models().await;
            return Failure::fatal(GenerationError::ModelNotFound);
        }
        match status {
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
                Failure::fatal(GenerationError::BadRequest { status: code })
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Failure::fatal(GenerationError::Auth { status: code })
            }
            StatusCode::PAYMENT_REQUIRED => Failure::fatal(GenerationError::Quota),
            StatusCode::TOO_MANY_REQUESTS => Failure {
                error: GenerationError::RateLimited,
                retryable: true,
                retry_after,
            },
            StatusCode::INTERNAL_SERVER_ERROR
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => {
                Failure::transient(GenerationError::Unavailable(format!("HTTP {code}")))
            }
            _ => Failure::fatal(GenerationError::Unavailable(format!("HTTP {code}"))),
        }
    }

    async fn log_available_models(&self) {
        match models::list(
            &self.client,
            &self.config.base_url,
            &self.api_key,
            Duration::from_secs(5),
        )
        .await
        {
            Ok(ids) => {
                tracing::error!(model = %self.model, available = ?ids, "upstream does not know the configured model; set DEEPSEEK_MODEL to one of the available ids")
            }
            Err(e) => {
                tracing::error!(model = %self.model, error = %self.redactor.redact(&e), "upstream does not know the configured model, and listing models failed")
            }
        }
    }
}

/// Reads at most [`ERROR_BODY_LIMIT`] bytes of a body, giving up after `timeout`.
async fn read_limited(mut stream: BodyStream, timeout: Duration) -> String {
    let mut body = Vec::new();
    let read = async {
        while let Some(Ok(chunk)) = stream.next().await {
            body.extend_from_slice(&chunk[..chunk.len().min(ERROR_BODY_LIMIT - body.len())]);
            if body.len() >= ERROR_BODY_LIMIT {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(timeout, read).await;
    String::from_utf8_lossy(&body).into_owned()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::ffi::OsString;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), OsString::from(value)))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn a_proxy_for_the_upstreams_scheme_sends_completions_through_reqwest() {
        assert!(!proxy_configured("https", env(&[])));
        assert!(proxy_configured(
            "https",
            env(&[("HTTPS_PROXY", "http://proxy:3128")])
        ));
        assert!(proxy_configured(
            "https",
            env(&[("https_proxy", "http://proxy:3128")])
        ));
        assert!(proxy_configured(
            "http",
            env(&[("ALL_PROXY", "socks5://proxy:1080")])
        ));
        assert!(proxy_configured(
            "http",
            env(&[("all_proxy", "socks5://proxy:1080")])
        ));
        // Another scheme's proxy, or an empty one, is not this upstream's.
        assert!(!proxy_configured(
            "https",
            env(&[("HTTP_PROXY", "http://proxy:3128")])
        ));
        assert!(!proxy_configured("https", env(&[("HTTPS_PROXY", "")])));
    }
}
