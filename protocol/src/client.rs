//! Frames the client sends to the relay, and the rules their data must follow.

use alloc::borrow::Cow;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::frame_type;
use crate::ids::valid_id;

/// A frame from the client. Serialises to `{"type": <snake_case variant>, "data": {…}}`.
///
/// `J` is the JSON value type of the side using the crate (the relay: `serde_json::Value`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ClientFrame<'a, J> {
    /// Heartbeat; the relay echoes the data in its `pong` (`{}` when absent).
    Ping(J),
    /// Start a generation.
    ChatMessage(ChatRequest<'a>),
    /// Stop a generation.
    Cancel(CancelRequest<'a>),
    /// Continue a generation after a reconnect, from the last offset applied.
    Resume(ResumeRequest<'a>),
}

impl<J> ClientFrame<'_, J> {
    /// The frame's `type` on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientFrame::Ping(_) => frame_type::PING,
            ClientFrame::ChatMessage(_) => frame_type::CHAT_MESSAGE,
            ClientFrame::Cancel(_) => frame_type::CANCEL,
            ClientFrame::Resume(_) => frame_type::RESUME,
        }
    }
}

/// The data of a `chat_message` frame from the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatRequest<'a> {
    /// The user's text: not blank.
    pub message: Cow<'a, str>,
    /// Conversation the message belongs to; the relay assigns one (`conv_…`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<Cow<'a, str>>,
    /// The client's own id for the message: echoed in the frames that answer it, and the
    /// key that makes re-sending the same message safe (it resumes instead of starting again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<Cow<'a, str>>,
}

/// The data of a `cancel` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelRequest<'a> {
    /// The relay's `message_id` **or** the `client_message_id` the generation started with.
    pub message_id: Cow<'a, str>,
}

/// The data of a `resume` frame: one of the ids, and the last offset the client applied.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResumeRequest<'a> {
    /// The relay's id of the generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<Cow<'a, str>>,
    /// The client's id of the message that started the generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<Cow<'a, str>>,
    /// A conversation: resumes whatever generation of it the relay still has (page reload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<Cow<'a, str>>,
    /// The last offset the client applied; 0 (or absent) means from the start.
    #[serde(default)]
    pub offset: u64,
}

/// Which generation a `resume` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeTarget<'r> {
    /// By the relay's `message_id`.
    MessageId(&'r str),
    /// By the `client_message_id` it was started with.
    ClientMessageId(&'r str),
    /// The latest generation of this conversation.
    Conversation(&'r str),
}

/// Why the data of a client frame breaks the protocol's rules (the relay answers `bad_frame`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Invalid {
    /// A `chat_message` whose text is empty or only whitespace.
    EmptyMessage,
    /// An id that is empty or longer than [`MAX_ID_LEN`](crate::MAX_ID_LEN) bytes.
    BadId,
    /// A `resume` with none of `message_id`, `client_message_id`, `conversation_id`.
    NoResumeTarget,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Invalid::EmptyMessage => "empty message",
            Invalid::BadId => "ids must be 1..=128 bytes",
            Invalid::NoResumeTarget => {
                "resume needs a message_id, client_message_id or conversation_id"
            }
        })
    }
}

fn check_id(id: &Option<Cow<'_, str>>) -> Result<(), Invalid> {
    match id {
        Some(id) if !valid_id(id) => Err(Invalid::BadId),
        _ => Ok(()),
    }
}

impl ChatRequest<'_> {
    /// Checks the rules serde cannot: a non-blank message and well-formed ids.
    pub fn check(&self) -> Result<(), Invalid> {
        if self.message.trim().is_empty() {
            return Err(Invalid::EmptyMessage);
        }
        check_id(&self.conversation_id)?;
        check_id(&self.client_message_id)
    }
}

impl ResumeRequest<'_> {
    /// The generation this resume names: the most specific id given (`message_id`, then
    /// `client_message_id`, then `conversation_id`), each id checked.
    pub fn target(&self) -> Result<ResumeTarget<'_>, Invalid> {
        check_id(&self.message_id)?;
        check_id(&self.client_message_id)?;
        check_id(&self.conversation_id)?;
        match (
            &self.message_id,
            &self.client_message_id,
            &self.conversation_id,
        ) {
            (Some(id), _, _) => Ok(ResumeTarget::MessageId(id)),
            (None, Some(id), _) => Ok(ResumeTarget::ClientMessageId(id)),
            (None, None, Some(id)) => Ok(ResumeTarget::Conversation(id)),
            (None, None, None) => Err(Invalid::NoResumeTarget),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(message: &str, conversation_id: Option<&str>) -> ChatRequest<'static> {
        ChatRequest {
            message: Cow::Owned(message.into()),
            conversation_id: conversation_id.map(|c| Cow::Owned(c.into())),
            client_message_id: None,
        }
    }

    #[test]
    fn chat_messages_need_text_and_short_ids() {
        assert_eq!(chat("hi", Some("conv_1")).check(), Ok(()));
        assert_eq!(chat(" \n\t", None).check(), Err(Invalid::EmptyMessage));
        assert_eq!(chat("hi", Some("")).check(), Err(Invalid::BadId));
        let long = "c".repeat(129);
        assert_eq!(chat("hi", Some(&long)).check(), Err(Invalid::BadId));
    }

    #[test]
    fn resume_picks_the_most_specific_id() {
        let mut resume = ResumeRequest {
            conversation_id: Some("conv".into()),
            ..ResumeRequest::default()
        };
        assert_eq!(resume.target(), Ok(ResumeTarget::Conversation("conv")));
        resume.client_message_id = Some("c-1".into());
        assert_eq!(resume.target(), Ok(ResumeTarget::ClientMessageId("c-1")));
        resume.message_id = Some("msg_1".into());
        assert_eq!(resume.target(), Ok(ResumeTarget::MessageId("msg_1")));
        resume.conversation_id = Some("".into());
        assert_eq!(resume.target(), Err(Invalid::BadId));
        assert_eq!(
            ResumeRequest::default().target(),
            Err(Invalid::NoResumeTarget)
        );
    }
}
