//! Decoding the OpenAI-compatible streaming format: SSE framing ([`SseDecoder`]) and the
//! JSON of each `data:` line ([`parse_data`]), both pure functions of the bytes.
//!
//! Tolerant by design: `: keep-alive` comments, blank lines, CRLF or lone CR line ends, a
//! byte-order mark, events split across reads at any byte, `usage` on any chunk, `choices`
//! empty or null, and unknown fields are all accepted. Bounded by design: a line or an
//! event longer than its limit is an [`SseError`] as soon as the limit is passed, so an
//! upstream that never sends a newline cannot grow the buffer; a line that is not UTF-8 is
//! an error too. (The `eventsource-stream` crate used before kept unbounded buffers and
//! re-scanned them on every read.)

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

/// Longest SSE line, and longest event data, the relay accepts. Real chunks are a few
/// hundred bytes; a reply's usage chunk a few more.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// Why the SSE framing of an upstream body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// A line, or the data of one event, grew past the limit before it ended.
    #[error("an SSE line or event is longer than {limit} bytes")]
    TooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// A line is not valid UTF-8.
    #[error("an SSE line is not valid UTF-8")]
    InvalidUtf8,
}

/// Splits an SSE byte stream into the data of each event: the values of one event's
/// `data:` lines joined with `\n`, as the HTML standard's `EventSource` does. Other fields
/// (`event`, `id`, `retry`) are ignored; an event still open when the stream ends is
/// dropped, as the standard says.
#[derive(Debug)]
pub struct SseDecoder {
    limit: usize,
    /// The current line so far, when it spans reads.
    line: Vec<u8>,
    /// The current event's data, each `data:` value followed by `\n`.
    data: String,
    /// The last read ended with CR: a LF at the start of the next one belongs to it.
    after_cr: bool,
    /// The first line is still to come (it may start with a byte-order mark).
    at_start: bool,
}

impl SseDecoder {
    /// A decoder refusing lines and events longer than `limit` bytes.
    pub fn new(limit: usize) -> SseDecoder {
        SseDecoder {
            limit,
            line: Vec::new(),
            data: String::new(),
            after_cr: false,
            at_start: true,
        }
    }

    /// Bytes held for lines and events not finished yet (never more than twice the limit).
    pub fn buffered(&self) -> usize {
        self.line.len() + self.data.len()
    }

    /// Decodes the next `bytes` of the stream, appending the data of each event they
    /// complete to `events`. After an error the decoder should not be fed again.
    pub fn feed(
        &mut self,
        mut bytes: &[u8],
        events: &mut VecDeque<String>,
    ) -> Result<(), SseError> {
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
        }
        while let Some(end) = bytes.iter().position(|b| matches!(b, b'\n' | b'\r')) {
            let (line, rest) = bytes.split_at(end);
            if self.line.is_empty() {
                self.end_line(line, events)?;
            } else {
                self.extend_line(line)?;
                let line = std::mem::take(&mut self.line);
                let ended = self.end_line(&line, events);
                self.line = line;
                self.line.clear();
                ended?;
            }
            bytes = match rest {
                [b'\r', b'\n', tail @ ..] => tail,
                [b'\r'] => {
                    self.after_cr = true;
                    &[]
                }
                [_, tail @ ..] => tail,
                [] => &[],
            };
        }
        self.extend_line(bytes)
    }

    fn extend_line(&mut self, part: &[u8]) -> Result<(), SseError> {
        if self.line.len() + part.len() > self.limit {
            return Err(SseError::TooLong { limit: self.limit });
        }
        self.line.extend_from_slice(part);
        Ok(())
    }

    fn end_line(&mut self, mut line: &[u8], events: &mut VecDeque<String>) -> Result<(), SseError> {
        // Checked before the BOM is stripped, as `extend_line` counts it too.
        if line.len() > self.limit {
            return Err(SseError::TooLong { limit: self.limit });
        }
        if std::mem::take(&mut self.at_start) {
            line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
        }
        let line = std::str::from_utf8(line).map_err(|_| SseError::InvalidUtf8)?;
        if line.is_empty() {
            if !self.data.is_empty() {
                let mut data = std::mem::take(&mut self.data);
                data.pop(); // the `\n` after the last value
                events.push_back(data);
            }
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        // An empty field name is a comment (`: keep-alive`).
        if field == "data" {
            if self.data.len() + value.len() + 1 > self.limit {
                return Err(SseError::TooLong { limit: self.limit });
            }
            // Reserved first: the `\n` after the value would otherwise grow the new string a
            // second time (a `realloc` per event, the largest part of the decoder in perf).
            self.data.reserve(value.len() + 1);
            self.data.push_str(value);
            self.data.push('\n');
        }
        Ok(())
    }
}

/// Why reading events from an upstream body stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError<E> {
    /// The body itself failed (reset, timeout, …).
    #[error("{0}")]
    Transport(E),
    /// The body is not acceptable SSE.
    #[error("{0}")]
    Sse(SseError),
}

/// Splits a byte stream into the data of its SSE events. Ends after the first error.
pub fn events<S, E>(bytes: S, limit: usize) -> impl Stream<Item = Result<String, EventError<E>>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    Events {
        bytes,
        decoder: SseDecoder::new(limit),
        ready: VecDeque::new(),
        failed: None,
        ended: false,
    }
}

/// The stream [`events`] returns. A `Stream` of its own rather than an `unfold` of an async
/// block, which moved this whole state into the block and back out for every event.
struct Events<S> {
    bytes: S,
    decoder: SseDecoder,
    /// Events decoded and not yet given.
    ready: VecDeque<String>,
    /// The SSE error to give once the events before it are given.
    failed: Option<SseError>,
    ended: bool,
}

impl<S, E> Stream for Events<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<String, EventError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let events = self.get_mut();
        loop {
            if let Some(data) = events.ready.pop_front() {
                return Poll::Ready(Some(Ok(data)));
            }
            if let Some(error) = events.failed.take() {
                events.ended = true;
                return Poll::Ready(Some(Err(EventError::Sse(error))));
            }
            if events.ended {
                return Poll::Ready(None);
            }
            match ready!(events.bytes.poll_next_unpin(cx)) {
                None => events.ended = true,
                Some(Err(error)) => {
                    events.ended = true;
                    return Poll::Ready(Some(Err(EventError::Transport(error))));
                }
                Some(Ok(chunk)) => {
                    if let Err(error) = events.decoder.feed(&chunk, &mut events.ready) {
                        events.failed = Some(error);
                    }
                }
            }
        }
    }
}

/// One decoded `data:` payload.
#[derive(Debug, Clone, PartialEq)]
pub enum SseData<'a> {
    /// The `[DONE]` sentinel.
    Done,
    /// A completion chunk.
    Chunk(Chunk<'a>),
}

/// The parts of a chunk the relay uses. Its texts borrow from the event's data unless JSON
/// escapes made them differ (one allocation and copy fewer per token).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chunk<'a> {
    /// Answer text.
    pub content: Option<Cow<'a, str>>,
    /// Reasoning text (`reasoning_content`), kept apart from the answer.
    pub reasoning: Option<Cow<'a, str>>,
    /// Set on the last content chunk.
    pub finish_reason: Option<String>,
    /// Token usage (DeepSeek/OpenAI send it on a final chunk with empty `choices`).
    pub usage: Option<Value>,
    /// An in-stream error object.
    pub error: Option<Value>,
}

#[derive(Deserialize)]
struct ChunkWire<'a> {
    #[serde(default, borrow, deserialize_with = "first_choice")]
    choices: Option<ChoiceWire<'a>>,
    #[serde(default)]
    usage: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct ChoiceWire<'a> {
    #[serde(default, borrow)]
    delta: Option<DeltaWire<'a>>,
    #[serde(default, borrow)]
    message: Option<DeltaWire<'a>>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct DeltaWire<'a> {
    #[serde(default, borrow)]
    content: Option<Text<'a>>,
    #[serde(default, borrow, alias = "reasoning")]
    reasoning_content: Option<Text<'a>>,
}

/// A JSON string, borrowed from the input when it has no escapes. (serde borrows a `Cow`
/// only when it is the field's whole type, not inside an `Option`: hence the newtype.)
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// `choices` (a list, or `null`) read down to its first element; the relay never asks for
/// `n > 1`, and reading the others into a `Vec` was an allocation per token.
fn first_choice<'de, D>(deserializer: D) -> Result<Option<ChoiceWire<'de>>, D::Error>
where
    D: Deserializer<'de>,
{
    struct FirstChoice;

    impl<'de> Visitor<'de> for FirstChoice {
        type Value = Option<ChoiceWire<'de>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of choices or null")
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let first = seq.next_element()?;
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(first)
        }
    }

    deserializer.deserialize_any(FirstChoice)
}

/// A text that is present and not empty.
fn non_empty(text: Option<Text<'_>>) -> Option<Cow<'_, str>> {
    text.map(|text| text.0).filter(|text| !text.is_empty())
}

fn from_wire(wire: ChunkWire<'_>) -> Chunk<'_> {
    let mut chunk = Chunk {
        usage: wire.usage.filter(|u| !u.is_null()),
        error: wire.error.filter(|e| !e.is_null()),
        ..Chunk::default()
    };
    if let Some(choice) = wire.choices {
        if let Some(delta) = choice.delta.or(choice.message) {
            chunk.content = non_empty(delta.content);
            chunk.reasoning = non_empty(delta.reasoning_content);
        }
        chunk.finish_reason = choice.finish_reason.filter(|f| !f.is_empty());
    }
    chunk
}

/// Decodes the data of one SSE event.
pub fn parse_data(data: &str) -> Result<SseData<'_>, serde_json::Error> {
    if data.trim() == "[DONE]" {
        return Ok(SseData::Done);
    }
    serde_json::from_str::<ChunkWire<'_>>(data).map(|w| SseData::Chunk(from_wire(w)))
}

/// Decodes a whole non-streamed `chat.completion` body (`choices[0].message`).
pub fn parse_whole(body: &[u8]) -> Result<Chunk<'_>, serde_json::Error> {
    serde_json::from_slice::<ChunkWire<'_>>(body).map(from_wire)
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
    fn the_first_choice_is_read_and_plain_texts_are_borrowed() {
        let data = r#"{"choices":[{"delta":{"content":"one"}},{"delta":{"content":"two"}},7]}"#;
        let Ok(SseData::Chunk(chunk)) = parse_data(data) else {
            panic!("not a chunk");
        };
        assert!(matches!(chunk.content, Some(Cow::Borrowed("one"))));
        let data = r#"{"choices":[{"delta":{"reasoning_content":"a\"b\u00e9"}}]}"#;
        let Ok(SseData::Chunk(chunk)) = parse_data(data) else {
            panic!("not a chunk");
        };
        assert_eq!(chunk.reasoning.as_deref(), Some("a\"b\u{e9}"));
        assert!(parse_data(r#"{"choices":{"delta":{}}}"#).is_err());
        assert!(parse_data(r#"{"choices":"none"}"#).is_err());
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
        let data: Vec<String> = events(bytes, MAX_EVENT_BYTES)
            .map(|e| e.unwrap())
            .collect()
            .await;
        assert_eq!(data, [r#"{"a":1}"#, "[DONE]"]);
    }

    fn decode_all(parts: &[&[u8]], limit: usize) -> (Vec<String>, Result<(), SseError>) {
        let mut decoder = SseDecoder::new(limit);
        let mut out = VecDeque::new();
        for part in parts {
            if let Err(e) = decoder.feed(part, &mut out) {
                return (out.into(), Err(e));
            }
        }
        (out.into(), Ok(()))
    }

    #[test]
    fn events_follow_the_html_standard() {
        // data lines join with \n; other fields are ignored; a lone CR ends a line; a BOM
        // at the very start is skipped; "data" without a colon is an empty value.
        let (data, end) = decode_all(
            &[b"\xEF\xBB\xBFdata: a\rdata:b\r\nevent: x\nid: 7\n\ndata\n\ndata:  two spaces\n\n"],
            64,
        );
        assert_eq!(end, Ok(()));
        assert_eq!(data, ["a\nb", "", " two spaces"]);
        // A CR at the end of one read and LF at the start of the next are one line end.
        let (data, _) = decode_all(&[b"data: x\r", b"\n", b"\r\n"], 64);
        assert_eq!(data, ["x"]);
        // An event the stream never finished is dropped.
        let (data, end) = decode_all(&[b"data: done\n\ndata: half"], 64);
        assert_eq!((data, end), (vec!["done".to_owned()], Ok(())));
    }

    #[test]
    fn a_line_without_end_is_refused_once_past_the_limit() {
        let mut decoder = SseDecoder::new(1000);
        let mut out = VecDeque::new();
        let chunk = [b'x'; 300];
        let mut fed = 0;
        let error = loop {
            match decoder.feed(&chunk, &mut out) {
                Ok(()) => fed += chunk.len(),
                Err(e) => break e,
            }
            assert!(decoder.buffered() <= 1000);
        };
        assert_eq!(error, SseError::TooLong { limit: 1000 });
        assert_eq!(fed, 900);
        // One huge read is refused the same way, and so is an event of many short lines.
        let (_, end) = decode_all(&[&[b'y'; 5000], b"\n"], 1000);
        assert_eq!(end, Err(SseError::TooLong { limit: 1000 }));
        let many = "data: 0123456789\n".repeat(100);
        let (_, end) = decode_all(&[many.as_bytes()], 1000);
        assert_eq!(end, Err(SseError::TooLong { limit: 1000 }));
    }

    #[test]
    fn invalid_utf8_is_an_error_even_split_across_reads() {
        let (data, end) = decode_all(&[b"data: ok\n\ndata: \xFF\xFE\n\n"], 64);
        assert_eq!(
            (data, end),
            (vec!["ok".to_owned()], Err(SseError::InvalidUtf8))
        );
        // A multi-byte character split between reads is fine.
        let (data, end) = decode_all(&[b"data: \xC3", b"\xA9\n\n"], 64);
        assert_eq!((data, end), (vec!["\u{e9}".to_owned()], Ok(())));
    }
}
