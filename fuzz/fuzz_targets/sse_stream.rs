//! The relay's SSE framing (`SseDecoder`, and the `events` stream over it) and the OpenAI
//! chunk decoder behind it, on an arbitrary upstream body cut into arbitrary reads.
//!
//! Input: byte 0 picks the line/event limit (below 0x40: a small limit, 1..=253 bytes, so
//! the limit is reached often; otherwise the relay's real 1 MiB), byte 1 seeds the cut
//! points, the rest is the body. Checked:
//!
//! - fed whole, one byte at a time, or in reads cut at seeded points (empty reads included),
//!   the decoder yields the same events and ends with the same error or none;
//! - those are what a plain, whole-body reading of the HTML standard's event-stream rules
//!   gives (with the relay's limits: a line or an event's data longer than the limit is
//!   `TooLong`, a finished line that is not UTF-8 is `InvalidUtf8`);
//! - between reads the decoder never holds more than twice the limit (a line and an event);
//! - the async `events` stream yields the same events, then the framing error or the
//!   transport error, and then nothing;
//! - so each event's chunk decoding (`parse_data`, a pure function of the event's text) is
//!   the same whatever the cuts; it never panics, and a decoded chunk never carries empty
//!   text or a JSON `null`.

#![no_main]

use std::collections::VecDeque;

use bytes::Bytes;
use chatwire_relay::provider::sse::{
    events, parse_data, EventError, SseData, SseDecoder, SseError, MAX_EVENT_BYTES,
};
use futures_util::StreamExt;
use libfuzzer_sys::fuzz_target;

type Outcome = (Vec<String>, Result<(), SseError>);

fuzz_target!(|data: &[u8]| {
    let [limit_byte, cut_seed, body @ ..] = data else {
        return;
    };
    let limit = match limit_byte {
        0..0x40 => 1 + usize::from(*limit_byte) * 4,
        _ => MAX_EVENT_BYTES,
    };

    let expected = reference(body, limit);
    let whole = feed(&[body], limit);
    assert_eq!(whole, expected, "fed whole");
    let bytes: Vec<&[u8]> = body.chunks(1).collect();
    assert_eq!(feed(&bytes, limit), expected, "fed byte by byte");
    let reads = cut(body, *cut_seed);
    assert_eq!(
        feed(&reads, limit),
        expected,
        "fed in reads {:?}",
        lengths(&reads)
    );

    for reset in [false, true] {
        assert_eq!(
            stream(&reads, limit, reset),
            expected_stream(&expected, reset),
            "events() over {:?}, then a reset: {reset}",
            lengths(&reads)
        );
    }

    for event in &expected.0 {
        assert!(!event.contains(['\r']), "{event:?}");
        check_chunk(event);
    }
});

/// Feeds `reads` in order, as the relay does, checking the buffer bound after each.
fn feed(reads: &[&[u8]], limit: usize) -> Outcome {
    let mut decoder = SseDecoder::new(limit);
    let mut out = VecDeque::new();
    for read in reads {
        if let Err(e) = decoder.feed(read, &mut out) {
            return (out.into(), Err(e));
        }
        assert!(
            decoder.buffered() <= 2 * limit,
            "{} bytes held, limit {limit}",
            decoder.buffered()
        );
    }
    (out.into(), Ok(()))
}

/// How the `events` stream ended.
#[derive(Debug, PartialEq)]
enum End {
    Clean,
    Sse(SseError),
    Transport,
}

/// What `events()` must yield for a body decoding to `outcome`, followed by a reset or not.
fn expected_stream(outcome: &Outcome, reset: bool) -> (Vec<String>, End) {
    let end = match (&outcome.1, reset) {
        (Err(e), _) => End::Sse(e.clone()),
        (Ok(()), true) => End::Transport,
        (Ok(()), false) => End::Clean,
    };
    (outcome.0.clone(), end)
}

/// Drives `events()` over the reads (then a transport error when `reset`) to its end.
fn stream(reads: &[&[u8]], limit: usize, reset: bool) -> (Vec<String>, End) {
    let mut items: Vec<Result<Bytes, &'static str>> = reads
        .iter()
        .map(|r| Ok(Bytes::copy_from_slice(r)))
        .collect();
    if reset {
        items.push(Err("connection reset"));
    }
    let all: Vec<_> = futures_executor::block_on(
        events(futures_util::stream::iter(items), limit).collect::<Vec<_>>(),
    );
    let mut data = Vec::new();
    let mut end = End::Clean;
    for item in all {
        assert_eq!(end, End::Clean, "an item after the stream's error");
        match item {
            Ok(event) => data.push(event),
            Err(EventError::Sse(e)) => end = End::Sse(e),
            Err(EventError::Transport(e)) => {
                assert_eq!(e, "connection reset");
                end = End::Transport;
            }
            Err(_) => panic!("an unknown EventError"),
        }
    }
    (data, end)
}

/// Cuts `body` into reads of 0..=16 bytes (sometimes longer) from an xorshift sequence.
fn cut(body: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut state = u32::from(seed).wrapping_mul(0x9E37_79B9) ^ 0x7F4A_7C15;
    let mut reads = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let len = match state % 8 {
            0 => (state >> 8) as usize % 512,
            _ => (state >> 8) as usize % 17,
        }
        .min(rest.len());
        let (read, tail) = rest.split_at(len);
        reads.push(read);
        rest = tail;
    }
    reads
}

fn lengths(reads: &[&[u8]]) -> Vec<usize> {
    reads.iter().map(|r| r.len()).collect()
}

/// The event-stream interpretation of the HTML standard (section 9.2.6), read whole and
/// written for clarity: lines end at CRLF, LF or CR; a BOM at the very start is skipped;
/// `data` values of one event are joined with LF; a blank line dispatches; an event still
/// open at the end is dropped. Limits as the relay documents them.
fn reference(body: &[u8], limit: usize) -> Outcome {
    let mut events = Vec::new();
    let mut data = String::new();
    let mut rest = body;
    let mut first_line = true;
    loop {
        let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') else {
            // The unfinished last line is held, not interpreted: only its size matters.
            let end = if rest.len() > limit {
                Err(SseError::TooLong { limit })
            } else {
                Ok(())
            };
            return (events, end);
        };
        let mut line = &rest[..end];
        let terminator = if rest[end..].starts_with(b"\r\n") {
            2
        } else {
            1
        };
        rest = &rest[end + terminator..];
        if line.len() > limit {
            return (events, Err(SseError::TooLong { limit }));
        }
        if first_line {
            first_line = false;
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        let Ok(line) = std::str::from_utf8(line) else {
            return (events, Err(SseError::InvalidUtf8));
        };
        if line.is_empty() {
            if !data.is_empty() {
                data.pop();
                events.push(std::mem::take(&mut data));
            }
            continue;
        }
        let (field, value) = match line.find(':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (line, ""),
        };
        if field == "data" {
            if data.len() + value.len() + 1 > limit {
                return (events, Err(SseError::TooLong { limit }));
            }
            data.push_str(value);
            data.push('\n');
        }
    }
}

/// The chunk decoder on one event: what the relay makes of it, and its invariants.
fn check_chunk(event: &str) {
    match parse_data(event) {
        Ok(SseData::Done) => assert_eq!(event.trim(), "[DONE]"),
        Ok(SseData::Chunk(chunk)) => {
            for text in [
                chunk.content.as_deref(),
                chunk.reasoning.as_deref(),
                chunk.finish_reason.as_deref(),
            ] {
                assert_ne!(text, Some(""), "{event:?}");
            }
            for value in [&chunk.usage, &chunk.error] {
                assert!(value.as_ref().is_none_or(|v| !v.is_null()), "{event:?}");
            }
        }
        Err(_) => {}
    }
}
