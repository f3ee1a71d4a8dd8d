//! The relay's side of the wire protocol: decoding client frames from JSON text with typed
//! errors, and encoding relay frames to JSON text.
//!
//! The frame types, error codes and close codes themselves live in the `chatwire-protocol`
//! crate (shared with the client); `PROTOCOL.md` is their prose version. Decoding is pure so
//! that malformed input becomes a typed [`FrameError`] (and an `error` frame), never a panic.

use axum::extract::ws::Utf8Bytes;
use bytes::{BufMut, BytesMut};
use serde::Deserialize;
use serde_json::Value;

pub use chatwire_protocol::{
    close, frame_type, CancelRequest, ChatRequest, Invalid, ResumeRequest, ResumeTarget, Role,
    MAX_ID_LEN,
};

use crate::error::ErrorCode;

/// A decoded frame from the browser (owned: it outlives the text it came from).
pub type ClientFrame = chatwire_protocol::ClientFrame<'static, Value>;

/// A frame the relay sends, borrowing its text and JSON values from the caller.
pub type ServerFrame<'a> = chatwire_protocol::ServerFrame<'a, &'a Value>;

#[derive(Deserialize)]
struct RawFrame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Option<Value>,
}

/// Why a client frame was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Not JSON, not `{type, data}`, or data of the wrong shape.
    #[error("bad frame: {0}")]
    BadFrame(String),
    /// A well-formed frame of a type the relay does not know.
    #[error("unknown frame type {0:?}")]
    UnknownType(String),
}

impl FrameError {
    /// The wire code for this rejection.
    pub fn code(&self) -> ErrorCode {
        match self {
            FrameError::BadFrame(_) => ErrorCode::BadFrame,
            FrameError::UnknownType(_) => ErrorCode::UnknownType,
        }
    }
}

impl From<Invalid> for FrameError {
    fn from(invalid: Invalid) -> FrameError {
        FrameError::BadFrame(invalid.to_string())
    }
}

fn data_of<T: serde::de::DeserializeOwned>(
    kind: &str,
    data: Option<Value>,
) -> Result<T, FrameError> {
    let data = data.ok_or_else(|| FrameError::BadFrame(format!("{kind} without data")))?;
    serde_json::from_value(data).map_err(|e| FrameError::BadFrame(e.to_string()))
}

/// Decodes one text frame from the browser.
pub fn decode(text: &str) -> Result<ClientFrame, FrameError> {
    let raw: RawFrame =
        serde_json::from_str(text).map_err(|e| FrameError::BadFrame(e.to_string()))?;
    let kind = raw.kind.as_str();
    match kind {
        frame_type::PING => Ok(ClientFrame::Ping(match raw.data {
            None | Some(Value::Null) => Value::Object(Default::default()),
            Some(data) => data,
        })),
        frame_type::CHAT_MESSAGE => {
            let request: ChatRequest<'static> = data_of(kind, raw.data)?;
            request.check()?;
            Ok(ClientFrame::ChatMessage(request))
        }
        frame_type::CANCEL => Ok(ClientFrame::Cancel(data_of(kind, raw.data)?)),
        frame_type::RESUME => {
            let request: ResumeRequest<'static> = data_of(kind, raw.data)?;
            request.target()?;
            Ok(ClientFrame::Resume(request))
        }
        other => Err(FrameError::UnknownType(
            other.chars().take(MAX_ID_LEN).collect(),
        )),
    }
}

/// Serialises a relay frame to its JSON text.
pub fn encode(frame: &ServerFrame<'_>) -> String {
    // Serialising these plain structs to a String cannot fail.
    serde_json::to_string(frame).unwrap_or_default()
}

/// Writes a generation's frames one after another into shared blocks of memory, so a token's
/// frame makes no allocation of its own: [`encode`] makes a `String` for each (plus, as the
/// frame is shared with its readers, a reference count beside it), and the kept frames of a
/// long reply take the length of their text instead of an allocation's rounded size.
///
/// A frame keeps its block alive while it is kept; blocks are small, so a short reply kept
/// for the resume grace holds at most one block beyond its text.
#[derive(Debug, Default)]
pub struct FrameWriter {
    block: BytesMut,
}

impl FrameWriter {
    /// Bytes reserved when the block has too little room left.
    const BLOCK: usize = 2048;
    /// Room below which a new block is started (most token frames fit).
    const ROOM: usize = 256;

    /// Serialises `frame` to its JSON text.
    pub fn encode(&mut self, frame: &ServerFrame<'_>) -> Utf8Bytes {
        if self.block.capacity() < Self::ROOM {
            self.block.reserve(Self::BLOCK);
        }
        // Writing into memory cannot fail (the block grows for a long frame), and serde_json
        // writes UTF-8, so neither fallback is ever taken.
        let _ = serde_json::to_writer((&mut self.block).writer(), frame);
        Utf8Bytes::try_from(self.block.split().freeze()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_frame_writer_writes_what_encode_writes_short_frames_and_long() {
        let mut writer = FrameWriter::default();
        let long = "x\u{e9}\"".repeat(5_000);
        let frames: Vec<ServerFrame<'_>> = (0..40)
            .map(|seq| ServerFrame::StreamToken {
                message_id: "msg_0123456789abcdef".into(),
                client_message_id: None,
                token: if seq == 20 {
                    long.as_str().into()
                } else {
                    "tok\n".into()
                },
                seq,
                offset: seq + 1,
            })
            .collect();
        let texts: Vec<Utf8Bytes> = frames.iter().map(|frame| writer.encode(frame)).collect();
        for (frame, text) in frames.iter().zip(&texts) {
            assert_eq!(text.as_str(), encode(frame));
        }
    }

    #[test]
    fn ping_without_data_pongs_empty_object() {
        assert_eq!(
            decode(r#"{"type":"ping"}"#).unwrap(),
            ClientFrame::Ping(json!({}))
        );
        let data = json!({"t": 5});
        assert_eq!(
            encode(&ServerFrame::Pong(&data)),
            r#"{"type":"pong","data":{"t":5}}"#
        );
    }

    #[test]
    fn pong_echoes_a_ping_s_numbers_exactly() {
        // Found by fuzz/client_frame: serde_json's default float parsing could read a number
        // as its neighbour, so the pong carried a different number than the ping (and the
        // relay's own output decoded to yet another one).
        for t in [
            "1.79760014679930413e308",
            "1.7976001467993039e308",
            "1764672000123.4567",
            "0.1",
            "-2.5e-308",
        ] {
            let expected: f64 = t.parse().unwrap();
            let frame = decode(&format!(r#"{{"type":"ping","data":{{"t":{t}}}}}"#)).unwrap();
            let ClientFrame::Ping(data) = frame else {
                panic!("{frame:?}")
            };
            assert_eq!(
                data["t"].as_f64().map(f64::to_bits),
                Some(expected.to_bits()),
                "{t}"
            );
            let pong = encode(&ServerFrame::Pong(&data));
            let echoed = pong
                .strip_prefix(r#"{"type":"pong","data":{"t":"#)
                .and_then(|rest| rest.strip_suffix("}}"))
                .unwrap_or_else(|| panic!("{pong}"));
            let echoed: f64 = echoed.parse().unwrap();
            assert_eq!(
                echoed.to_bits(),
                expected.to_bits(),
                "{t} came back as {pong}"
            );
        }
    }

    #[test]
    fn chat_message_fields_are_optional_but_message_is_not() {
        let f = decode(r#"{"type":"chat_message","data":{"message":"hi"}}"#).unwrap();
        assert_eq!(
            f,
            ClientFrame::ChatMessage(ChatRequest {
                message: "hi".into(),
                conversation_id: None,
                client_message_id: None
            })
        );
        for bad in [
            r#"{"type":"chat_message","data":{"message":"  "}}"#,
            r#"{"type":"chat_message","data":{}}"#,
            r#"{"type":"chat_message"}"#,
            r#"{"type":"chat_message","data":{"message":"hi","client_message_id":""}}"#,
        ] {
            assert!(matches!(decode(bad), Err(FrameError::BadFrame(_))), "{bad}");
        }
    }

    #[test]
    fn resume_needs_an_id() {
        let f = decode(r#"{"type":"resume","data":{"message_id":"msg_1","offset":3}}"#).unwrap();
        let ClientFrame::Resume(resume) = f else {
            panic!("{f:?}")
        };
        assert_eq!(resume.target(), Ok(ResumeTarget::MessageId("msg_1")));
        assert_eq!(resume.offset, 3);
        assert!(matches!(
            decode(r#"{"type":"resume","data":{"offset":3}}"#),
            Err(FrameError::BadFrame(_))
        ));
        assert!(matches!(
            decode(r#"{"type":"resume","data":{"message_id":"m","offset":-1}}"#),
            Err(FrameError::BadFrame(_))
        ));
    }

    #[test]
    fn garbage_and_unknown_types_are_typed_errors() {
        assert_eq!(decode("not json").unwrap_err().code(), ErrorCode::BadFrame);
        assert_eq!(decode("[1,2]").unwrap_err().code(), ErrorCode::BadFrame);
        assert_eq!(
            decode(r#"{"type":"subscribe"}"#).unwrap_err(),
            FrameError::UnknownType("subscribe".into())
        );
        assert_eq!(
            decode(r#"{"type":"cancel","data":{"message_id":"m1"}}"#).unwrap(),
            ClientFrame::Cancel(CancelRequest {
                message_id: "m1".into()
            })
        );
    }

    #[test]
    fn error_frames_omit_absent_ids() {
        assert_eq!(
            encode(&ServerFrame::error(ErrorCode::Busy, None, None, None)),
            r#"{"type":"error","data":{"code":"busy","message":"This conversation is still answering; cancel it or wait for it to finish.","retryable":true}}"#
        );
        let usage = json!({"total_tokens": 3});
        let done = encode(&ServerFrame::StreamComplete {
            message_id: "m".into(),
            conversation_id: "c".into(),
            client_message_id: None,
            content: "hi".into(),
            finish_reason: "stop".into(),
            usage: Some(&usage),
            offset: 2,
        });
        assert_eq!(
            done,
            r#"{"type":"stream_complete","data":{"message_id":"m","conversation_id":"c","content":"hi","finish_reason":"stop","usage":{"total_tokens":3},"offset":2}}"#
        );
    }
}
