//! Frames going out: sent at once while open, otherwise queued in the outbox (flushed in
//! order by `connection::on_open`).

use alloc::string::String;

use alloc::borrow::Cow;

use chatwire_protocol::{ChatRequest, ClientFrame, ResumeRequest};
use js_sys::{Date, Math};
use wasm_bindgen::JsValue;

use super::shared::{report, Shared};
use crate::core::error::ErrorCode;
use crate::core::generations::ResumeBy;
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

/// Sends a `chat_message` for `message` with a fresh `client_message_id`, and returns the id
/// (as a JS string, which the manager keeps too). `conversation_id` comes as a Rust string
/// for the frame and as the JS string it was given, which the manager keeps.
pub fn send_chat(
    shared: &Shared,
    message: String,
    conversation_id: Option<(String, JsValue)>,
) -> JsValue {
    let (conversation_id, js_conversation_id) = conversation_id.unzip();
    let (id, js_id) = {
        let mut inner = shared.borrow_mut();
        inner.sent_chats = inner.sent_chats.wrapping_add(1);
        let id = client_message_id(Date::now(), inner.sent_chats, Math::random());
        let js_id = JsValue::from_str(&id);
        inner.generations.expect(js_id.clone(), js_conversation_id);
        (id, js_id)
    };
    let frame: ClientFrame<'_, ()> = ClientFrame::ChatMessage(ChatRequest {
        message: message.into(),
        conversation_id: conversation_id.map(Into::into),
        client_message_id: Some(id.into()),
    });
    send_text(shared, to_json(&frame));
    js_id
}

/// The `resume` frame for a reply named `by`, whose last applied offset is `offset`.
pub fn resume_frame(by: ResumeBy<'_, JsValue>, offset: u64) -> String {
    let text = |id: &JsValue| Some(Cow::Owned(id.as_string().unwrap_or_default()));
    let mut request = ResumeRequest {
        offset,
        ..ResumeRequest::default()
    };
    match by {
        ResumeBy::MessageId(id) => request.message_id = text(id),
        ResumeBy::ClientMessageId(id) => request.client_message_id = text(id),
        ResumeBy::Conversation(id) => request.conversation_id = text(id),
    }
    to_json(&ClientFrame::<()>::Resume(request))
}

/// A frame of strings and numbers always serialises.
fn to_json(frame: &ClientFrame<'_, ()>) -> String {
    serde_json::to_string(frame).unwrap_or_default()
}
