//! The chatwire wire protocol: decoding client frames and encoding relay frames.
//!
//! Every frame is a JSON text message `{"type": …, "data": …}`; `PROTOCOL.md` at the
//! repository root is the prose version of this file. Decoding is pure so that malformed
//! input becomes a typed [`FrameError`] (and an `error` frame), never a panic.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ErrorCode;

/// Longest accepted `conversation_id`, `client_message_id` or `message_id`, in bytes.
pub const MAX_ID_LEN: usize = 128;

/// A decoded frame sent by the browser.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientFrame {
    /// Heartbeat; the payload is echoed back in the `pong` (`{}` when absent).
    Ping(Value),
    /// Start a generation.
    ChatMessage(ChatRequest),
    /// Stop a generation; `message_id` may be the relay's id or the client's id.
    Cancel {
        /// Relay `message_id` or the `client_message_id` the generation was started with.
        message_id: String,
    },
}

/// The data of a `chat_message` frame from the browser.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChatRequest {
    /// The user's text.
    pub message: String,
    /// Conversation the message belongs to; the relay assigns one when absent.
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// The browser's own id for the message, echoed in `stream_complete`.
    #[serde(default)]
    pub client_message_id: Option<String>,
}

#[derive(Deserialize)]
struct CancelData {
    message_id: String,
}

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

fn valid_id(id: &Option<String>) -> bool {
    id.as_ref()
        .is_none_or(|id| !id.is_empty() && id.len() <= MAX_ID_LEN)
}

/// Decodes one text frame from the browser.
pub fn decode(text: &str) -> Result<ClientFrame, FrameError> {
    let raw: RawFrame =
        serde_json::from_str(text).map_err(|e| FrameError::BadFrame(e.to_string()))?;
    match raw.kind.as_str() {
        "ping" => Ok(ClientFrame::Ping(match raw.data {
            None | Some(Value::Null) => Value::Object(Default::default()),
            Some(data) => data,
        })),
        "chat_message" => {
            let data = raw
                .data
                .ok_or_else(|| FrameError::BadFrame("chat_message without data".into()))?;
            let req: ChatRequest =
                serde_json::from_value(data).map_err(|e| FrameError::BadFrame(e.to_string()))?;
            if req.message.trim().is_empty() {
                return Err(FrameError::BadFrame("empty message".into()));
            }
            if !valid_id(&req.conversation_id) || !valid_id(&req.client_message_id) {
                return Err(FrameError::BadFrame(format!(
                    "ids must be 1..={MAX_ID_LEN} bytes"
                )));
            }
            Ok(ClientFrame::ChatMessage(req))
        }
        "cancel" => {
            let data = raw
                .data
                .ok_or_else(|| FrameError::BadFrame("cancel without data".into()))?;
            let cancel: CancelData =
                serde_json::from_value(data).map_err(|e| FrameError::BadFrame(e.to_string()))?;
            Ok(ClientFrame::Cancel {
                message_id: cancel.message_id,
            })
        }
        other => Err(FrameError::UnknownType(
            other.chars().take(MAX_ID_LEN).collect(),
        )),
    }
}

/// A frame sent by the relay. Serialises to `{"type": <snake_case variant>, "data": {…}}`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    /// Answer to a `ping`, echoing its data.
    Pong(&'a Value),
    /// One piece of the answer text.
    StreamToken {
        /// The relay's id of the generation.
        message_id: &'a str,
        /// The text piece.
        token: &'a str,
        /// Counts from 0 within the message.
        seq: u64,
    },
    /// One piece of the model's reasoning (DeepSeek `reasoning_content`).
    ReasoningToken {
        /// The relay's id of the generation.
        message_id: &'a str,
        /// The text piece.
        token: &'a str,
        /// Counts from 0 within the message, separately from `stream_token`.
        seq: u64,
    },
    /// The streamed answer finished.
    StreamComplete {
        /// The relay's id of the generation.
        message_id: &'a str,
        /// The conversation (as sent, or assigned by the relay).
        conversation_id: &'a str,
        /// The browser's id for the user message, when it sent one.
        #[serde(skip_serializing_if = "Option::is_none")]
        client_message_id: Option<&'a str>,
        /// The whole answer text (without reasoning).
        content: &'a str,
        /// Upstream's finish reason (`stop`, `length`, …).
        finish_reason: &'a str,
        /// Upstream's token usage, when it reported one.
        #[serde(skip_serializing_if = "Option::is_none")]
        usage: Option<&'a Value>,
    },
    /// A whole, non-streamed assistant reply.
    ChatMessage {
        /// The relay's id of the generation.
        message_id: &'a str,
        /// Always `assistant`.
        role: &'static str,
        /// The whole answer text.
        content: &'a str,
        /// The conversation (as sent, or assigned by the relay).
        conversation_id: &'a str,
        /// The browser's id for the user message, when it sent one.
        #[serde(skip_serializing_if = "Option::is_none")]
        client_message_id: Option<&'a str>,
    },
    /// Something went wrong; `message_id` is set when it ends a generation.
    Error {
        /// Stable code.
        code: ErrorCode,
        /// A human sentence.
        message: &'static str,
        /// The generation this error ends, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        message_id: Option<&'a str>,
        /// The browser's id of the message this error answers, if it sent one.
        #[serde(skip_serializing_if = "Option::is_none")]
        client_message_id: Option<&'a str>,
        /// Whether repeating the request later may succeed.
        retryable: bool,
    },
}

impl ServerFrame<'_> {
    /// The standard `error` frame for `code`.
    pub fn error(code: ErrorCode, message_id: Option<&str>) -> ServerFrame<'_> {
        ServerFrame::error_for(code, message_id, None)
    }

    /// The standard `error` frame for `code`, naming the message it answers.
    pub fn error_for<'a>(
        code: ErrorCode,
        message_id: Option<&'a str>,
        client_message_id: Option<&'a str>,
    ) -> ServerFrame<'a> {
        ServerFrame::Error {
            code,
            message: code.message(),
            message_id,
            client_message_id,
            retryable: code.retryable(),
        }
    }

    /// Serialises the frame to its JSON text.
    pub fn to_json(&self) -> String {
        // Serialising these plain structs cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ping_without_data_pongs_empty_object() {
        assert_eq!(
            decode(r#"{"type":"ping"}"#).unwrap(),
            ClientFrame::Ping(json!({}))
        );
        let data = json!({"t": 5});
        assert_eq!(
            ServerFrame::Pong(&data).to_json(),
            r#"{"type":"pong","data":{"t":5}}"#
        );
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
        assert!(matches!(
            decode(r#"{"type":"chat_message","data":{"message":"  "}}"#),
            Err(FrameError::BadFrame(_))
        ));
        assert!(matches!(
            decode(r#"{"type":"chat_message","data":{}}"#),
            Err(FrameError::BadFrame(_))
        ));
        assert!(matches!(
            decode(r#"{"type":"chat_message"}"#),
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
            ClientFrame::Cancel {
                message_id: "m1".into()
            }
        );
    }

    #[test]
    fn error_frames_omit_absent_message_id() {
        assert_eq!(
            ServerFrame::error(ErrorCode::Busy, None).to_json(),
            r#"{"type":"error","data":{"code":"busy","message":"This conversation is still answering; cancel it or wait for it to finish.","retryable":true}}"#
        );
        let usage = json!({"total_tokens": 3});
        let done = ServerFrame::StreamComplete {
            message_id: "m",
            conversation_id: "c",
            client_message_id: None,
            content: "hi",
            finish_reason: "stop",
            usage: Some(&usage),
        }
        .to_json();
        assert_eq!(
            done,
            r#"{"type":"stream_complete","data":{"message_id":"m","conversation_id":"c","content":"hi","finish_reason":"stop","usage":{"total_tokens":3}}}"#
        );
    }
}
