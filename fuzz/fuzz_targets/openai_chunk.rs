//! The OpenAI chunk decoder (`parse_data` for one SSE event's data, `parse_whole` for a
//! non-streamed `chat.completion` body) on arbitrary bytes. Checked, beyond "never panics":
//!
//! - `[DONE]` (trimmed) is the end sentinel and nothing else is;
//! - the streamed and the whole-body decoders read the same JSON the same way;
//! - a decoded chunk carries no empty text and no JSON `null`, and written back as an
//!   OpenAI chunk it decodes to the same chunk;
//! - the data sent as SSE (`data: ` before each of its lines), in one read or cut after every
//!   byte, comes out of the relay's SSE decoder as exactly that data.

#![no_main]

use std::collections::VecDeque;

use chatwire_relay::provider::sse::{
    parse_data, parse_whole, Chunk, SseData, SseDecoder, MAX_EVENT_BYTES,
};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let whole = parse_whole(data);
    if let Ok(chunk) = &whole {
        check_chunk(chunk);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_data(text) {
        Ok(SseData::Done) => assert_eq!(text.trim(), "[DONE]"),
        Ok(SseData::Chunk(chunk)) => {
            assert_ne!(text.trim(), "[DONE]");
            check_chunk(&chunk);
            assert_eq!(whole.as_ref().ok(), Some(&chunk), "parse_whole differs");
        }
        Err(e) => {
            if let Ok(chunk) = &whole {
                panic!("parse_data refuses ({e}) what parse_whole reads as {chunk:?}");
            }
        }
    }
    sse_round_trip(text);
});

fn check_chunk(chunk: &Chunk<'_>) {
    for text in [
        chunk.content.as_deref(),
        chunk.reasoning.as_deref(),
        chunk.finish_reason.as_deref(),
    ] {
        assert_ne!(text, Some(""), "{chunk:?}");
    }
    for value in [&chunk.usage, &chunk.error] {
        assert!(value.as_ref().is_none_or(|v| !v.is_null()), "{chunk:?}");
    }
    // The chunk written back the way an OpenAI-compatible server would send it.
    let mut wire = json!({
        "choices": [{
            "index": 0,
            "delta": {"content": chunk.content, "reasoning_content": chunk.reasoning},
            "finish_reason": chunk.finish_reason,
        }],
    });
    for (key, value) in [("usage", &chunk.usage), ("error", &chunk.error)] {
        if let Some(value) = value {
            wire[key] = value.clone();
        }
    }
    let text = wire.to_string();
    match parse_data(&text) {
        Ok(SseData::Chunk(again)) => assert_eq!(&again, chunk, "{text}"),
        other => panic!("{text} decodes to {other:?}"),
    }
}

/// `text` framed as one SSE event decodes to `text`, whatever the read boundaries.
fn sse_round_trip(text: &str) {
    if text.contains('\r') || text.len() + "data: ".len() > MAX_EVENT_BYTES {
        return;
    }
    let mut body = String::new();
    for line in text.split('\n') {
        body.push_str("data: ");
        body.push_str(line);
        body.push('\n');
    }
    body.push('\n');
    for reads in [vec![body.as_bytes()], body.as_bytes().chunks(1).collect()] {
        let mut decoder = SseDecoder::new(MAX_EVENT_BYTES);
        let mut events = VecDeque::new();
        for read in &reads {
            decoder.feed(read, &mut events).expect("well-formed SSE");
        }
        assert_eq!(events, [text], "{body:?} in {} reads", reads.len());
        assert_eq!(decoder.buffered(), 0);
    }
}
