//! How the browser client classifies a server text frame by its `type`
//! (`chatwire::core::frame::FrameKind`), on arbitrary text.
//!
//! The adapter (`browser/dispatch.rs` `decode`) runs `JSON.parse` and compares the frame's
//! `type` with the JS strings of `FrameKind::TYPED` through `FrameKind::classify`; a frame
//! that is not JSON, or whose `type` is not a string, is a `bad_frame`. Here serde_json's
//! `Value` stands in for `JSON.parse` (it refuses a little more: lone surrogate escapes,
//! nesting over 128) and `==` on values for JS `===`. Checked, beyond "never panics":
//!
//! - `FrameKind::TYPED` names each kind once, each with a distinct wire `type`, never
//!   `Unknown`, and those types are the protocol crate's;
//! - `classify` asks about the types in order, with each one's own index, and stops at the
//!   first match; it agrees with `from_type` on every string;
//! - a known kind comes only from its own `type`, exactly (no case folding, no trimming);
//! - a `bad_frame` is exactly what has no string `type`, and the protocol crate refuses it;
//! - every frame the protocol crate accepts (so every frame the relay can send) is classified
//!   as its own kind, never `Unknown` or `bad_frame`, and so is its re-encoding.

#![no_main]

use chatwire::core::frame::FrameKind;
use chatwire_protocol::{frame_type, ServerFrame};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Every server frame type in the protocol crate.
const PROTOCOL_TYPES: [&str; 7] = [
    frame_type::PONG,
    frame_type::STREAM_TOKEN,
    frame_type::REASONING_TOKEN,
    frame_type::STREAM_COMPLETE,
    frame_type::CHAT_MESSAGE,
    frame_type::ERROR,
    frame_type::RESUMED,
];

fuzz_target!(|data: &[u8]| {
    check_typed_table();
    // A WebSocket text frame is UTF-8 by the time `onmessage` sees it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The whole input as a `type`, and as the text of a frame.
    check_type_string(text);
    let kind = classify_like_the_adapter(text);
    agrees_with_protocol_crate(text, kind);
});

fn check_typed_table() {
    let typed = FrameKind::TYPED;
    for (i, (kind, name)) in typed.iter().enumerate() {
        assert_ne!(*kind, FrameKind::Unknown);
        assert!(
            PROTOCOL_TYPES.contains(name),
            "{name} is not a protocol type"
        );
        for (other_kind, other_name) in &typed[i + 1..] {
            assert_ne!(kind, other_kind);
            assert_ne!(name, other_name);
        }
    }
}

/// `classify` with a test that records what it was asked, against `from_type`.
fn check_type_string(frame_type: &str) {
    // `classify` takes an `Fn`: the test is a comparison.
    let asked = std::cell::RefCell::new(Vec::new());
    let kind = FrameKind::classify(|index, name| {
        asked.borrow_mut().push(index);
        assert_eq!(name, FrameKind::TYPED[index].1, "index and name disagree");
        name == frame_type
    });
    assert_eq!(kind, FrameKind::from_type(frame_type), "{frame_type:?}");
    let asked = asked.into_inner();
    let position = FrameKind::TYPED
        .iter()
        .position(|(_, name)| *name == frame_type);
    match position {
        Some(index) => {
            assert_eq!(kind, FrameKind::TYPED[index].0, "{frame_type:?}");
            assert_eq!(
                asked,
                (0..=index).collect::<Vec<_>>(),
                "stops at the first match"
            );
        }
        None => {
            assert_eq!(kind, FrameKind::Unknown, "{frame_type:?}");
            assert_eq!(asked, (0..FrameKind::TYPED.len()).collect::<Vec<_>>());
        }
    }
}

/// The adapter's `decode`: `None` is a `bad_frame`.
fn classify_like_the_adapter(text: &str) -> Option<FrameKind> {
    let frame: Value = serde_json::from_str(text).ok()?;
    // `Reflect.get(frame, "type")` for an object; `undefined` for anything else (an array
    // has no `type` either).
    let frame_type = frame.as_object().and_then(|object| object.get("type"));
    let types = FrameKind::TYPED.map(|(_, name)| Value::from(name));
    let kind = FrameKind::classify(|index, _| frame_type == Some(&types[index]));
    match (kind, frame_type) {
        (FrameKind::Unknown, Some(Value::String(other))) => {
            assert!(
                !PROTOCOL_TYPES.contains(&other.as_str()),
                "{other:?} is a protocol type"
            );
            Some(FrameKind::Unknown)
        }
        (FrameKind::Unknown, _) => None,
        (known, Some(Value::String(name))) => {
            assert_eq!(known, FrameKind::from_type(name));
            Some(known)
        }
        (known, other) => panic!("{known:?} from a type that is not a string: {other:?}"),
    }
}

fn agrees_with_protocol_crate(text: &str, kind: Option<FrameKind>) {
    let Ok(frame) = serde_json::from_str::<ServerFrame<'_, Value>>(text) else {
        return;
    };
    // serde's adjacently tagged enums also read the sequence form `["pong", {}]`, which the
    // relay never writes (it writes objects) and the client calls a bad frame. And serde's
    // derived code skips an unknown field unread, where `JSON.parse` (and `Value`) read the
    // whole text: only text that is a JSON object as a whole is compared.
    if !matches!(serde_json::from_str::<Value>(text), Ok(Value::Object(_))) {
        return;
    }
    let expected = FrameKind::from_type(frame.kind());
    assert_ne!(
        expected,
        FrameKind::Unknown,
        "{} has no kind of its own",
        frame.kind()
    );
    assert_eq!(kind, Some(expected), "the relay's {text:?}");
    let canonical = serde_json::to_string(&frame).expect("a frame serialises");
    assert_eq!(
        classify_like_the_adapter(&canonical),
        Some(expected),
        "{canonical}"
    );
}
