//! The fake OpenAI-compatible upstream: `POST /v1/chat/completions` answers with an SSE
//! stream shaped like DeepSeek's. What to stream is read from the user message:
//!
//! - `paced:{tokens}:{period_us}:{offset_us}`: one token every `period_us` after an initial
//!   `offset_us`; each token's text is the clock reading (ns) at the moment it is handed to
//!   the HTTP body, so the reader can compute how long it took to arrive.
//! - `burst:{tokens}`: tokens as fast as the connection takes them (text `tok`).
//!
//! Bodies are lazy streams (no task or channel per response), so the upstream's own cost per
//! token is one small allocation at most.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt;
use axum::Router;
use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use tokio::net::TcpListener;
use tokio::time::Instant;

use crate::clock::now_ns;

const BURST_EVENT: &[u8] =
    b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok\"},\"finish_reason\":null}]}\n\n";
const FINISH_EVENTS: &[u8] = b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}\n\ndata: [DONE]\n\n";
/// Longest stream the upstream agrees to produce.
const MAX_TOKENS: u64 = 1_000_000;

/// What one request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// Stamped tokens at a fixed period.
    Paced {
        tokens: u64,
        period: Duration,
        offset: Duration,
    },
    /// Constant tokens, no pauses.
    Burst { tokens: u64 },
}

impl Script {
    /// The user message that asks for this script.
    pub fn message(&self) -> String {
        match self {
            Script::Paced {
                tokens,
                period,
                offset,
            } => format!(
                "paced:{tokens}:{}:{}",
                period.as_micros(),
                offset.as_micros()
            ),
            Script::Burst { tokens } => format!("burst:{tokens}"),
        }
    }

    /// Parses [`Script::message`]'s output.
    pub fn parse(message: &str) -> Option<Script> {
        let mut parts = message.split(':');
        let kind = parts.next()?;
        let mut num = || parts.next()?.parse::<u64>().ok();
        match kind {
            "paced" => Some(Script::Paced {
                tokens: num()?.min(MAX_TOKENS),
                period: Duration::from_micros(num()?),
                offset: Duration::from_micros(num()?),
            }),
            "burst" => Some(Script::Burst {
                tokens: num()?.min(MAX_TOKENS),
            }),
            _ => None,
        }
    }

    /// The request body the relay would send for this script (used by the direct reader).
    pub fn request_body(&self) -> String {
        serde_json::json!({
            "model": "bench",
            "messages": [{"role": "user", "content": self.message()}],
            "stream": true,
            "stream_options": {"include_usage": true},
        })
        .to_string()
    }
}

fn stamped_event(stamp: u64) -> Bytes {
    Bytes::from(format!(
        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{stamp}\"}},\"finish_reason\":null}}]}}\n\n"
    ))
}

fn events(script: Script) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    let tokens = match script {
        Script::Paced { tokens, .. } | Script::Burst { tokens } => tokens,
    };
    let start = Instant::now();
    let body = stream::unfold(0u64, move |sent| async move {
        if sent >= tokens {
            return None;
        }
        let chunk = match script {
            Script::Paced { period, offset, .. } => {
                let due = start + offset + period * u32::try_from(sent).unwrap_or(u32::MAX);
                tokio::time::sleep_until(due).await;
                stamped_event(now_ns())
            }
            Script::Burst { .. } => Bytes::from_static(BURST_EVENT),
        };
        Some((Ok(chunk), sent + 1))
    });
    body.chain(stream::once(async {
        Ok(Bytes::from_static(FINISH_EVENTS))
    }))
}

async fn completions(body: Bytes) -> Response {
    let script = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            let last = v
                .get("messages")?
                .as_array()?
                .last()?
                .get("content")?
                .as_str()?
                .to_owned();
            Script::parse(&last)
        });
    let Some(script) = script else {
        return (axum::http::StatusCode::BAD_REQUEST, "unknown script\n").into_response();
    };
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(events(script)),
    )
        .into_response()
}

/// Serves the fake upstream on `listener` until the process ends.
pub async fn serve(listener: TcpListener) {
    let app = Router::new().route("/v1/chat/completions", post(completions));
    // A real upstream sends each token at once; without TCP_NODELAY, Nagle's algorithm
    // would hold a token back until the previous one is acknowledged (up to ~40 ms).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("relay-load: fake upstream stopped: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_round_trip_through_the_message() {
        let paced = Script::Paced {
            tokens: 100,
            period: Duration::from_millis(20),
            offset: Duration::from_micros(1500),
        };
        assert_eq!(Script::parse(&paced.message()), Some(paced));
        let burst = Script::Burst { tokens: 7 };
        assert_eq!(Script::parse(&burst.message()), Some(burst));
        assert_eq!(Script::parse("hello"), None);
        assert_eq!(Script::parse("burst:x"), None);
    }
}
