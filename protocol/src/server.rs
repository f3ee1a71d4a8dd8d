//! Frames the relay sends to the client.
//!
//! Every frame of a generation (`reasoning_token`, `stream_token` and the one terminal
//! `stream_complete`, `chat_message` or `error`) carries `offset`: one counter per generation,
//! from 1, across all its frames. A client remembers the last offset it applied and, after a
//! reconnect, sends it in `resume`; the relay answers `resumed` and then every frame after it.

use alloc::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::frame_type;

/// A frame from the relay. Serialises to `{"type": <snake_case variant>, "data": {…}}`.
///
/// `J` is the JSON value type of the side using the crate: the relay serialises with
/// `&serde_json::Value` (no copy of a `ping`'s data or upstream `usage`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ServerFrame<'a, J> {
    /// Answer to a `ping`, echoing its data.
    Pong(J),
    /// One piece of the answer text.
    StreamToken {
        /// The relay's id of the generation.
        message_id: Cow<'a, str>,
        /// Only on the generation's first frame (offset 1), when the chat had one: the
        /// `client_message_id` it answers, so a client links the two before the end.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_message_id: Option<Cow<'a, str>>,
        /// The text piece.
        token: Cow<'a, str>,
        /// Counts from 0 within the message's answer tokens.
        seq: u64,
        /// Position among all the generation's frames, from 1.
        offset: u64,
    },
    /// One piece of the model's reasoning (DeepSeek `reasoning_content`); never part of the
    /// answer.
    ReasoningToken {
        /// The relay's id of the generation.
        message_id: Cow<'a, str>,
        /// Only on the generation's first frame (offset 1), when the chat had one: the
        /// `client_message_id` it answers, so a client links the two before the end.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_message_id: Option<Cow<'a, str>>,
        /// The text piece.
        token: Cow<'a, str>,
        /// Counts from 0 within the message's reasoning tokens, apart from `stream_token`.
        seq: u64,
        /// Position among all the generation's frames, from 1.
        offset: u64,
    },
    /// The streamed answer finished (terminal).
    StreamComplete {
        /// The relay's id of the generation.
        message_id: Cow<'a, str>,
        /// The conversation (as sent, or assigned by the relay).
        conversation_id: Cow<'a, str>,
        /// The client's id for the user message, when it sent one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_message_id: Option<Cow<'a, str>>,
        /// The whole answer text (without reasoning).
        content: Cow<'a, str>,
        /// Upstream's finish reason (`stop`, `length`, …).
        finish_reason: Cow<'a, str>,
        /// Upstream's token usage, when it reported one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<J>,
        /// Position among all the generation's frames, from 1.
        offset: u64,
    },
    /// A whole, non-streamed assistant reply (terminal).
    ChatMessage {
        /// The relay's id of the generation.
        message_id: Cow<'a, str>,
        /// Always `assistant`.
        role: Role,
        /// The whole answer text.
        content: Cow<'a, str>,
        /// The conversation (as sent, or assigned by the relay).
        conversation_id: Cow<'a, str>,
        /// The client's id for the user message, when it sent one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_message_id: Option<Cow<'a, str>>,
        /// Position among all the generation's frames, from 1.
        offset: u64,
    },
    /// Something went wrong; with a `message_id` it is the terminal frame of that generation.
    Error {
        /// Stable code.
        code: ErrorCode,
        /// The fixed human sentence for the code.
        message: Cow<'a, str>,
        /// The generation this error ends (or could not resume), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<Cow<'a, str>>,
        /// The client's id of the message this error answers, if it sent one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_message_id: Option<Cow<'a, str>>,
        /// Whether repeating the request later may succeed.
        retryable: bool,
        /// Position among the generation's frames when this error ends one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offset: Option<u64>,
    },
    /// The answer to a `resume`. With `recovered: true`, every frame after `offset` follows,
    /// then the live ones, ending with exactly one terminal frame.
    Resumed {
        /// The relay's id of the generation; when nothing was found, the id the client sent
        /// (absent if it sent none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<Cow<'a, str>>,
        /// The client's id of the message that started it, if it sent one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_message_id: Option<Cow<'a, str>>,
        /// The generation's conversation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conversation_id: Option<Cow<'a, str>>,
        /// The offset the frames that follow continue from (the one the client sent).
        offset: u64,
        /// Whether the relay still has the generation's frames after `offset`.
        recovered: bool,
    },
}

/// The author of a `chat_message` from the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The model.
    Assistant,
}

impl<'a, J> ServerFrame<'a, J> {
    /// The standard `error` frame for `code`, naming what it answers. `offset` is set when
    /// the error ends a generation.
    pub fn error(
        code: ErrorCode,
        message_id: Option<&'a str>,
        client_message_id: Option<&'a str>,
        offset: Option<u64>,
    ) -> ServerFrame<'a, J> {
        ServerFrame::Error {
            code,
            message: Cow::Borrowed(code.message()),
            message_id: message_id.map(Cow::Borrowed),
            client_message_id: client_message_id.map(Cow::Borrowed),
            retryable: code.retryable(),
            offset,
        }
    }

    /// The frame's `type` on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            ServerFrame::Pong(_) => frame_type::PONG,
            ServerFrame::StreamToken { .. } => frame_type::STREAM_TOKEN,
            ServerFrame::ReasoningToken { .. } => frame_type::REASONING_TOKEN,
            ServerFrame::StreamComplete { .. } => frame_type::STREAM_COMPLETE,
            ServerFrame::ChatMessage { .. } => frame_type::CHAT_MESSAGE,
            ServerFrame::Error { .. } => frame_type::ERROR,
            ServerFrame::Resumed { .. } => frame_type::RESUMED,
        }
    }

    /// The generation offset the frame carries, if it is a frame of a generation.
    pub fn offset(&self) -> Option<u64> {
        match self {
            ServerFrame::StreamToken { offset, .. }
            | ServerFrame::ReasoningToken { offset, .. }
            | ServerFrame::StreamComplete { offset, .. }
            | ServerFrame::ChatMessage { offset, .. } => Some(*offset),
            ServerFrame::Error { offset, .. } => *offset,
            ServerFrame::Pong(_) | ServerFrame::Resumed { .. } => None,
        }
    }

    /// Whether this is the last frame of its generation: `stream_complete`, `chat_message`,
    /// or an `error` carrying a `message_id`. No frame of that generation follows it.
    pub fn is_terminal(&self) -> bool {
        match self {
            ServerFrame::StreamComplete { .. } | ServerFrame::ChatMessage { .. } => true,
            ServerFrame::Error { message_id, .. } => message_id.is_some(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Frame = ServerFrame<'static, ()>;

    #[test]
    fn error_frames_take_the_code_s_sentence_and_retry_flag() {
        let frame = Frame::error(ErrorCode::Busy, None, Some("c-1"), None);
        let ServerFrame::Error {
            message, retryable, ..
        } = &frame
        else {
            panic!("not an error: {frame:?}");
        };
        assert_eq!(message, ErrorCode::Busy.message());
        assert!(*retryable);
        assert!(!frame.is_terminal(), "a refusal ends no generation");
        let ends = Frame::error(ErrorCode::Cancelled, Some("msg_1"), None, Some(4));
        assert!(ends.is_terminal());
        assert_eq!(ends.offset(), Some(4));
    }

    #[test]
    fn only_generation_frames_carry_offsets() {
        assert_eq!(Frame::Pong(()).offset(), None);
        let token = Frame::StreamToken {
            message_id: "m".into(),
            client_message_id: None,
            token: "t".into(),
            seq: 0,
            offset: 1,
        };
        assert_eq!(token.offset(), Some(1));
        assert!(!token.is_terminal());
        assert_eq!(token.kind(), "stream_token");
    }
}
