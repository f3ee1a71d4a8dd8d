//! The relay's decoder of client frames (`chatwire_relay::protocol::decode`) on arbitrary
//! text. Checked, beyond "never panics":
//!
//! - an accepted frame obeys the protocol's rules (non-blank message, ids of 1..=128 bytes,
//!   a resume names a generation, a ping's data is never `null`);
//! - written back as JSON it decodes to the same frame (a `ping`'s data, an arbitrary JSON
//!   value, included: the `pong` echoes it);
//! - that canonical text means the same frame to the shared `chatwire-protocol` types, and
//!   whatever those types accept from the original text (rules passing) the relay accepts
//!   as the same frame: the relay and the client's protocol crate never disagree;
//! - an unknown `type` is reported cut to at most 128 characters.

#![no_main]

use chatwire_protocol::MAX_ID_LEN;
use chatwire_relay::protocol::{decode, ClientFrame, FrameError};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The same frame as the shared crate's derived deserializer reads it.
type SharedFrame = chatwire_protocol::ClientFrame<'static, Value>;

fuzz_target!(|data: &[u8]| {
    // The relay only decodes WebSocket text frames, which are UTF-8 by then (anything else
    // is closed with 1007 before it reaches `decode`).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let decoded = decode(text);
    match &decoded {
        Ok(frame) => check_accepted(frame),
        Err(FrameError::UnknownType(kind)) => {
            assert!(kind.chars().count() <= MAX_ID_LEN, "{kind:?}");
        }
        Err(_) => {}
    }
    agrees_with_shared_crate(text, &decoded);
});

fn check_accepted(frame: &ClientFrame) {
    match frame {
        ClientFrame::Ping(data) => assert!(!data.is_null(), "a pong would echo null"),
        ClientFrame::ChatMessage(request) => {
            assert_eq!(request.check(), Ok(()), "{request:?}");
            assert!(!request.message.trim().is_empty());
        }
        ClientFrame::Resume(request) => {
            assert!(request.target().is_ok(), "{request:?}");
        }
        ClientFrame::Cancel(_) => {}
    }
    let canonical = serde_json::to_string(frame).expect("a decoded frame serialises");
    let again = decode(&canonical)
        .unwrap_or_else(|e| panic!("re-encoded frame refused: {e}\n{canonical}\n{frame:?}"));
    assert_eq!(&again, frame, "re-encoded as {canonical}");
    let shared: SharedFrame = serde_json::from_str(&canonical)
        .unwrap_or_else(|e| panic!("protocol crate refuses {canonical}: {e}"));
    assert_eq!(
        &shared, frame,
        "protocol crate reads {canonical} differently"
    );
    let kind = serde_json::from_str::<Value>(&canonical).expect("JSON")["type"].clone();
    assert_eq!(kind, frame.kind());
}

/// What the shared crate accepts (and its rules pass), the relay accepts as the same frame.
///
/// Only for text that is valid JSON as a whole. The relay reads the whole frame first, so it
/// refuses a string that is not Unicode (a lone surrogate escape such as `"\udccc"`) even in
/// a field it ignores, where serde's derived code skips the field unread (found by this
/// target: stricter, and harmless).
fn agrees_with_shared_crate(text: &str, decoded: &Result<ClientFrame, FrameError>) {
    let Ok(shared) = serde_json::from_str::<SharedFrame>(text) else {
        return;
    };
    if serde_json::from_str::<Value>(text).is_err() {
        return;
    }
    let expected = match shared {
        ClientFrame::Ping(Value::Null) => ClientFrame::Ping(Value::Object(Default::default())),
        ClientFrame::ChatMessage(request) if request.check().is_err() => {
            assert!(
                matches!(decoded, Err(FrameError::BadFrame(_))),
                "{decoded:?}"
            );
            return;
        }
        ClientFrame::Resume(request) if request.target().is_err() => {
            assert!(
                matches!(decoded, Err(FrameError::BadFrame(_))),
                "{decoded:?}"
            );
            return;
        }
        other => other,
    };
    match decoded {
        Ok(frame) => assert_eq!(frame, &expected),
        Err(e) => panic!("protocol crate accepts {expected:?} but the relay refuses it: {e}"),
    }
}
