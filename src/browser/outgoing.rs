//! Frames going out: sent at once while open, otherwise queued in the outbox (flushed in
//! order by `connection::on_open`).

use alloc::string::String;

use chatwire_protocol::{ChatRequest, ClientFrame};
use js_sys::{Date, Math};

use super::shared::{report, Shared};
use crate::core::error::ErrorCode;
use crate::core::ids::client_message_id;
use crate::core::state::ConnectionState;

/// Sends `text` now if the socket is open, or queues it. Returns true when it went out now;
/// a full outbox reports `outbox_full`.
pub fn send_text(shared: &Shared, text: String) -> bool {
    let mut inner = shared.borrow_mut();
    if inner.life.state() == ConnectionState::Open {
        if let Some(socket) = &inner.socket {
            if socket.send(&text).is_ok() {
                return true;
            }
        }
    }
    if inner.outbox.push(text).is_err() {
        drop(inner);
        report(shared, ErrorCode::OutboxFull);
    }
    false
}

/// Sends a `chat_message` for `message` with a fresh `client_message_id`, and returns the id.
pub fn send_chat(shared: &Shared, message: String, conversation_id: Option<String>) -> String {
    let id = {
        let mut inner = shared.borrow_mut();
        inner.sent_chats = inner.sent_chats.wrapping_add(1);
        client_message_id(Date::now(), inner.sent_chats, Math::random())
    };
    let frame: ClientFrame<'_, ()> = ClientFrame::ChatMessage(ChatRequest {
        message: message.into(),
        conversation_id: conversation_id.map(Into::into),
        client_message_id: Some(id.as_str().into()),
    });
    // A frame of strings always serialises.
    send_text(shared, serde_json::to_string(&frame).unwrap_or_default());
    id
}
