//! Server frames: which callback a frame's `type` selects. The type names come from the
//! wire protocol crate (`chatwire_protocol::frame_type`), the one source of truth.

use chatwire_protocol::frame_type;

/// The kinds of server frame the manager dispatches to their own callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// `pong`: heartbeat answer → `onPong`.
    Pong,
    /// `stream_token`: one piece of a streamed reply → `onStreamToken`.
    StreamToken,
    /// `stream_complete`: a streamed reply ended → `onStreamComplete`.
    StreamComplete,
    /// `chat_message`: a whole message → `onChatMessage`.
    ChatMessage,
    /// `error`: the server reports a problem → `onError`.
    Error,
    /// `reasoning_token`: a piece of the model's reasoning → `onUnknown` (no callback of its
    /// own, but counted for resume like every frame of a generation).
    ReasoningToken,
    /// `resumed`: the relay's answer to a `resume` → `onResumed`.
    Resumed,
    /// Any other type → `onUnknown`.
    Unknown,
}

impl FrameKind {
    /// Every kind with a `type` of its own and that type, the most frequent first.
    pub const TYPED: [(FrameKind, &'static str); 7] = [
        (FrameKind::StreamToken, frame_type::STREAM_TOKEN),
        (FrameKind::ReasoningToken, frame_type::REASONING_TOKEN),
        (FrameKind::StreamComplete, frame_type::STREAM_COMPLETE),
        (FrameKind::ChatMessage, frame_type::CHAT_MESSAGE),
        (FrameKind::Pong, frame_type::PONG),
        (FrameKind::Error, frame_type::ERROR),
        (FrameKind::Resumed, frame_type::RESUMED),
    ];

    /// Classifies a frame by its `type`, given a test of "is the type number `index` of
    /// [`FrameKind::TYPED`]": the browser adapter compares JS strings it made once, so a
    /// frame's type is never copied into wasm on the per-frame path.
    pub fn classify(is_type: impl Fn(usize, &'static str) -> bool) -> FrameKind {
        Self::TYPED
            .iter()
            .enumerate()
            .find(|(index, (_, name))| is_type(*index, name))
            .map_or(FrameKind::Unknown, |(_, (kind, _))| *kind)
    }

    /// Classifies a frame by its `type` string.
    pub fn from_type(frame_type: &str) -> FrameKind {
        Self::classify(|_, name| name == frame_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_types_map_to_their_kinds() {
        assert_eq!(FrameKind::from_type("pong"), FrameKind::Pong);
        assert_eq!(FrameKind::from_type("stream_token"), FrameKind::StreamToken);
        assert_eq!(
            FrameKind::from_type("stream_complete"),
            FrameKind::StreamComplete
        );
        assert_eq!(FrameKind::from_type("chat_message"), FrameKind::ChatMessage);
        assert_eq!(FrameKind::from_type("error"), FrameKind::Error);
        assert_eq!(
            FrameKind::from_type("reasoning_token"),
            FrameKind::ReasoningToken
        );
        assert_eq!(FrameKind::from_type("resumed"), FrameKind::Resumed);
    }

    #[test]
    fn other_types_are_unknown_and_matching_is_exact() {
        for other in ["", "Pong", "stream_token ", "ping"] {
            assert_eq!(FrameKind::from_type(other), FrameKind::Unknown, "{other:?}");
        }
    }
}
