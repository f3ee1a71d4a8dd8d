//! `ChatWebSocketManager`: what JS sees. Each method checks its arguments, then hands over to
//! `connection` (lifecycle), `outgoing` (frames out) or `shared` (state and callbacks).

use js_sys::{JsString, Promise, Reflect};
use wasm_bindgen::prelude::*;

use super::auth_token::{text, AuthToken};
use super::callbacks::Slot;
use super::connection;
use super::js::type_error;
use super::options::read_options;
use super::outgoing;
use super::shared::{settle, with_state_change, Inner, Shared, Waiter};
use crate::core::error::ErrorCode;
use crate::core::generations::ResumeBy;
use crate::core::options::Options;
use crate::core::state::ConnectionState;

/// A WebSocket chat connection that reconnects, keeps itself alive and dispatches
/// server frames by `type` to callbacks.
///
/// ```ts
/// const m = new ChatWebSocketManager("session_1", "token", { baseDelayMs: 500 });
/// m.onStreamToken = (frame) => render(frame.data.token);
/// m.onStreamComplete = (frame) => save(frame.data.content);
/// await m.connect();
/// m.sendChat("Hello!", "conv_1");
/// ```
#[wasm_bindgen]
pub struct ChatWebSocketManager {
    shared: Shared,
}

#[wasm_bindgen]
impl ChatWebSocketManager {
    /// Creates a manager for `sessionId`. `authToken` is a string, or a function returning
    /// a string or a Promise of one, called before every (re)connect. Throws a `TypeError`
    /// for an empty session id, a token of another type, or an unknown or mistyped option.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = sessionId, unchecked_param_type = "string")] session_id: JsValue,
        #[wasm_bindgen(js_name = authToken, unchecked_param_type = "AuthToken")]
        auth_token: JsValue,
        // A `JsValue` typed for TypeScript, not `Option<…>`, which the glue would check and
        // hand over as a table index: 32 B gzip (README "Size"). `undefined` and `null` both
        // give the defaults (`read_options`).
        #[wasm_bindgen(unchecked_optional_param_type = "ChatWebSocketOptions | null")]
        options: JsValue,
    ) -> Result<ChatWebSocketManager, JsValue> {
        let Some(session_id) = text(&session_id).filter(|id| !id.is_empty()) else {
            return Err(type_error("chatwire: sessionId must be a non-empty string"));
        };
        let Some(auth_token) = AuthToken::from_js(auth_token) else {
            return Err(type_error(
                "chatwire: authToken must be a string or a function",
            ));
        };
        let mut validated = Options::default();
        read_options(options, &mut validated)?;
        let inner = Inner::new(session_id, auth_token, validated);
        Ok(ChatWebSocketManager {
            shared: Shared::new(inner),
        })
    }

    /// Opens the connection. Resolves once it is open (at once if it already is); while
    /// the manager reconnects the promise stays pending. Rejects with an `Error` whose
    /// `code` is `reconnect_failed`, `unauthorized`, `policy_violation`, `invalid_url` or
    /// `disconnected` when the manager ends up `failed` or `closed` instead.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn connect(&self) -> Promise {
        if self.shared.borrow().life.state() == ConnectionState::Open {
            return Promise::resolve(&JsValue::UNDEFINED);
        }
        let promise = Waiter::promise(&self.shared);
        connection::start(&self.shared);
        promise
    }

    /// Closes the connection with code 1000. The manager never reconnects afterwards
    /// (until `connect()` is called again); queued frames stay queued.
    pub fn disconnect(&self) {
        let waiters = with_state_change(&self.shared, Inner::stop);
        settle(waiters, Err(ErrorCode::Disconnected));
    }

    /// From `failed` (or `closed`): starts connecting again with a fresh attempt count.
    /// Returns false when a connection is already active.
    pub fn retry(&self) -> bool {
        connection::start(&self.shared)
    }

    /// Sends `frame` as JSON. Returns true when it went out now; false when it was queued
    /// until the next open, or refused because the outbox is full (then `onError` gets
    /// `outbox_full`). Throws a `TypeError` for a frame without a string `type` or one
    /// that cannot be serialised.
    #[wasm_bindgen(js_name = sendMessage)]
    pub fn send_message(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ClientFrame")] frame: JsValue,
    ) -> Result<bool, JsValue> {
        let has_type = frame.is_object()
            && Reflect::get(&frame, &"type".into()).is_ok_and(|kind| kind.is_string());
        if !has_type {
            return Err(type_error(
                "chatwire: sendMessage needs an object with a string `type`",
            ));
        }
        let text = js_sys::JSON::stringify(&frame)
            .ok()
            .and_then(|text| text.as_string())
            .ok_or_else(|| type_error("chatwire: the frame cannot be serialised to JSON"))?;
        Ok(outgoing::send_text(&self.shared, text))
    }

    /// Sends `{type: "chat_message", data: {message, conversation_id, client_message_id}}`
    /// with a fresh `client_message_id`, and returns that id. Throws a `TypeError` when
    /// `message` (or a given `conversationId`) is not a string.
    #[wasm_bindgen(js_name = sendChat, unchecked_return_type = "string")]
    pub fn send_chat(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] message: JsValue,
        #[wasm_bindgen(js_name = conversationId)] conversation_id: Option<JsString>,
    ) -> Result<JsValue, JsValue> {
        let strings_only =
            || type_error("chatwire: sendChat(message, conversationId?) takes strings");
        let message = text(&message).ok_or_else(strings_only)?;
        let conversation_id = match conversation_id {
            None => None,
            Some(id) => Some((text(&id).ok_or_else(strings_only)?, id.into())),
        };
        Ok(outgoing::send_chat(&self.shared, message, conversation_id))
    }

    /// After a page reload: resumes the reply of `conversationId` that the relay is still
    /// generating, if there is one (its frames then arrive from the start, and
    /// `onResumed` says whether it was found). Sent now if open, else after the next open.
    #[wasm_bindgen(js_name = resumeConversation)]
    pub fn resume_conversation(
        &self,
        #[wasm_bindgen(js_name = conversationId, unchecked_param_type = "string")]
        conversation_id: JsValue,
    ) -> Result<(), JsValue> {
        if text(&conversation_id).is_none_or(|id| id.is_empty()) {
            return Err(type_error(
                "chatwire: resumeConversation(conversationId) takes a non-empty string",
            ));
        }
        let frame = {
            let mut inner = self.shared.borrow_mut();
            inner
                .generations
                .expect_conversation(conversation_id.clone());
            let by = ResumeBy::Conversation(&conversation_id);
            (inner.life.state() == ConnectionState::Open).then(|| outgoing::resume_frame(by, 0))
        };
        if let Some(frame) = frame {
            outgoing::send_text(&self.shared, frame);
        }
        Ok(())
    }

    /// The connection state.
    #[wasm_bindgen(getter, unchecked_return_type = "ConnectionState")]
    pub fn state(&self) -> JsValue {
        self.shared.borrow().life.state().as_str().into()
    }

    /// True while the socket is open.
    #[wasm_bindgen(getter, js_name = isConnected)]
    pub fn is_connected(&self) -> bool {
        self.shared.borrow().life.state() == ConnectionState::Open
    }

    /// While `reconnecting`: milliseconds until the next attempt (for a countdown).
    // A `JsValue` rather than `Option<f64>`, which wasm-bindgen returns as a (flag, number)
    // pair through a multi-value shim: 42 B gzip (README "Size").
    #[wasm_bindgen(getter, js_name = reconnectDelayMs, unchecked_return_type = "number | undefined")]
    pub fn reconnect_delay_ms(&self) -> JsValue {
        let inner = self.shared.borrow();
        if inner.life.state() != ConnectionState::Reconnecting {
            return JsValue::UNDEFINED;
        }
        (inner.reconnect_due_at - js_sys::Date::now())
            .max(0.0)
            .into()
    }

    /// Frames waiting in the outbox for the next open.
    #[wasm_bindgen(getter, js_name = queuedFrames)]
    pub fn queued_frames(&self) -> usize {
        self.shared.borrow().outbox.len()
    }
}

/// Generates the getter/setter pair of each callback property.
macro_rules! callback_property {
    ($getter:ident, $setter:ident, $js:literal, $slot:expr, $ty:literal) => {
        #[wasm_bindgen]
        impl ChatWebSocketManager {
            #[doc = concat!("The `", $js, "` callback, or undefined.")]
            #[wasm_bindgen(getter = $js, unchecked_return_type = $ty)]
            pub fn $getter(&self) -> JsValue {
                self.shared.borrow().callbacks.get($slot).map_or(JsValue::UNDEFINED, Into::into)
            }

            #[doc = concat!("Sets `", $js, "`; `null`/`undefined` clears it, other non-functions throw.")]
            #[wasm_bindgen(setter = $js)]
            pub fn $setter(
                &self,
                #[wasm_bindgen(unchecked_param_type = $ty)] callback: JsValue,
            ) -> Result<(), JsValue> {
                self.shared.borrow_mut().callbacks.set($slot, callback)
            }
        }
    };
}

callback_property!(
    on_pong,
    set_on_pong,
    "onPong",
    Slot::Pong,
    "((frame: PongFrame) => void) | null | undefined"
);
callback_property!(
    on_stream_token,
    set_on_stream_token,
    "onStreamToken",
    Slot::StreamToken,
    "((frame: StreamTokenFrame) => void) | null | undefined"
);
callback_property!(
    on_stream_complete,
    set_on_stream_complete,
    "onStreamComplete",
    Slot::StreamComplete,
    "((frame: StreamCompleteFrame) => void) | null | undefined"
);
callback_property!(
    on_chat_message,
    set_on_chat_message,
    "onChatMessage",
    Slot::ChatMessage,
    "((frame: ChatMessageFrame) => void) | null | undefined"
);
callback_property!(
    on_error,
    set_on_error,
    "onError",
    Slot::Error,
    "((frame: ErrorFrame) => void) | null | undefined"
);
callback_property!(
    on_unknown,
    set_on_unknown,
    "onUnknown",
    Slot::Unknown,
    "((frame: UnknownFrame) => void) | null | undefined"
);
callback_property!(
    on_resumed,
    set_on_resumed,
    "onResumed",
    Slot::Resumed,
    "((frame: ResumedFrame) => void) | null | undefined"
);
callback_property!(
    on_state_change,
    set_on_state_change,
    "onStateChange",
    Slot::StateChange,
    "((state: ConnectionState) => void) | null | undefined"
);

impl Drop for ChatWebSocketManager {
    /// `free()` (or garbage collection): stop quietly and release every closure.
    fn drop(&mut self) {
        let Some(mut inner) = self.shared.try_borrow_mut() else {
            return;
        };
        let waiters = inner.stop();
        drop(inner);
        settle(waiters, Err(ErrorCode::Disconnected));
    }
}
