//! Decoding the OpenAI-compatible streaming format: SSE framing (delegated to the
//! `eventsource-stream` crate) and the JSON of each `data:` line (pure functions here).
//!
//! Tolerant by design: `: keep-alive` comments, blank lines, CRLF, events split across reads,
//! `usage` on any chunk, `choices` empty or null, and unknown fields are all accepted.

use bytes::Bytes;
use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::Value;

/// One decoded `data:` payload.
#[derive(Debug, Clone, PartialEq)]
pub enum SseData {
    /// The `[DONE]` sentinel.
    Done,
    /// A completion chunk.
    Chunk(Chunk),
}

/// The parts of a chunk the relay uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chunk {
    /// Answer text.
    pub content: Option<String>,
    /// Reasoning text (`reasoning_content`), kept apart from the answer.
    pub reasoning: Option<String>,
    /// Set on the last content chunk.
    pub finish_reason: Option<String>,
    /// Token usage (DeepSeek/OpenAI send it on a final chunk with empty `choices`).
    pub usage: Option<Value>,
    /// An in-stream error object.
    pub error: Option<Value>,
}

#[derive(Deserialize)]
struct ChunkWire {
    #[serde(default)]
    choices: Option<Vec<ChoiceWire>>,
    #[serde(default)]
    usage: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct ChoiceWire {
    #[serde(default)]
    delta: Option<DeltaWire>,
    #[serde(default)]
    message: Option<DeltaWire>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct DeltaWire {
    #[serde(default)]
    content: Option<String>,
    #[serde(default, alias = "reasoning")]
    reasoning_content: Option<String>,
}

fn from_wire(wire: ChunkWire) -> Chunk {
    let mut chunk = Chunk {
        usage: wire.usage.filter(|u| !u.is_null()),
        error: wire.error.filter(|e| !e.is_null()),
        ..Chunk::default()
    };
    // Only the first choice matters: the relay never asks for `n > 1`.
    if let Some(choice) = wire.choices.and_then(|c| c.into_iter().next()) {
        if let Some(delta) = choice.delta.or(choice.message) {
            chunk.content = delta.content.filter(|c| !c.is_empty());
            chunk.reasoning = delta.reasoning_content.filter(|c| !c.is_empty());
        }
        chunk.finish_reason = choice.finish_reason.filter(|f| !f.is_empty());
    }
    chunk
}

/// Decodes the data of one SSE event.
pub fn parse_data(data: &str) -> Result<SseData, serde_json::Error> {
    if data.trim() == "[DONE]" {
        return Ok(SseData::Done);
    }
    serde_json::from_str::<ChunkWire>(data).map(|w| SseData::Chunk(from_wire(w)))
}

/// Decodes a whole non-streamed `chat.completion` body (`choices[0].message`).
pub fn parse_whole(body: &[u8]) -> Result<Chunk, serde_json::Error> {
    serde_json::from_slice::<ChunkWire>(body).map(from_wire)
}

/// Splits a byte stream into SSE events.
pub fn events<S, E>(bytes: S) -> impl Stream<Item = Result<Event, EventStreamError<E>>>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    bytes.eventsource()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use serde_json::json;

    #[test]
    fn chunks_carry_content_reasoning_finish_and_usage() {
        let d =
            parse_data(r#"{"choices":[{"delta":{"content":"Hi"},"finish_reason":null}]}"#).unwrap();
        assert_eq!(
            d,
            SseData::Chunk(Chunk {
                content: Some("Hi".into()),
                ..Chunk::default()
            })
        );
        let d = parse_data(r#"{"choices":[{"delta":{"content":null,"reasoning_content":"hmm"}}]}"#)
            .unwrap();
        assert_eq!(
            d,
            SseData::Chunk(Chunk {
                reasoning: Some("hmm".into()),
                ..Chunk::default()
            })
        );
        let d = parse_data(r#"{"choices":[],"usage":{"total_tokens":9}}"#).unwrap();
        assert_eq!(
            d,
            SseData::Chunk(Chunk {
                usage: Some(json!({"total_tokens":9})),
                ..Chunk::default()
            })
        );
        let d = parse_data(r#"{"choices":null,"usage":null}"#).unwrap();
        assert_eq!(d, SseData::Chunk(Chunk::default()));
        let d =
            parse_data(r#"{"choices":[{"delta":{},"finish_reason":"stop"}],"extra":1}"#).unwrap();
        assert_eq!(
            d,
            SseData::Chunk(Chunk {
                finish_reason: Some("stop".into()),
                ..Chunk::default()
            })
        );
        assert_eq!(parse_data(" [DONE] ").unwrap(), SseData::Done);
        assert!(parse_data("{oops").is_err());
    }

    #[test]
    fn whole_completion_reads_the_message() {
        let c = parse_whole(br#"{"choices":[{"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],"usage":{"total_tokens":2}}"#).unwrap();
        assert_eq!(c.content.as_deref(), Some("Hello"));
        assert_eq!(c.finish_reason.as_deref(), Some("stop"));
    }

    #[tokio::test]
    async fn framing_tolerates_comments_crlf_and_split_reads() {
        let parts = [
            ": keep-alive\r\n\r\n",
            "data: {\"a\"",
            ":1}\r",
            "\n\r\n\n: keep-alive\n\ndata: [DO",
            "NE]\n\n",
        ];
        let bytes = futures_util::stream::iter(
            parts.map(|p| Ok::<_, std::convert::Infallible>(Bytes::from_static(p.as_bytes()))),
        );
        let data: Vec<String> = events(bytes).map(|e| e.unwrap().data).collect().await;
        assert_eq!(data, [r#"{"a":1}"#, "[DONE]"]);
    }
}
