//! `ChatWebSocketManager`: the browser adapter. It wires WebSocket events, timers and
//! page-life events to the pure decisions in `state`, `heartbeat`, `outbox` and
//! `accumulator`, and calls the JS callbacks.
//!
//! Every JS callback is called with no `RefCell` borrow held, because a callback may call
//! back into the manager (`sendMessage`, `disconnect`, …).

use alloc::rc::{Rc, Weak};
use alloc::vec::Vec;
use core::cell::RefCell;
use core::mem;

use wasm_bindgen::prelude::*;

use crate::accumulator::{StreamAccumulator, StreamText};
use crate::callbacks::{invoke, Callbacks, Slot};
use crate::error::ErrorCode;
use crate::frame::FrameKind;
use crate::heartbeat::{Beat, Heartbeat};
use crate::ids::{client_message_id_parts, PREFIX, SEPARATOR};
use crate::incoming::{Handler, Incoming, Listener};
use crate::js::{
    base36, coded_error, concat, date_now, error_frame, get, get_object_field, get_plain,
    math_random, parse_json, set, set_object_field, stringify, type_error, Array, Function,
    JsPromise, JsString, Object,
};
use crate::options::{OptionValue, Options, OPTION_MESSAGE_PREFIX};
use crate::outbox::Outbox;
use crate::page_life::{PageEvent, PageLife};
use crate::socket::Socket;
use crate::state::{AfterLoss, ConnectionState, Lifecycle};
use crate::timer::Timeout;
use crate::url::{chat_url, page_base};

type Shared = Rc<RefCell<Inner>>;

#[wasm_bindgen]
extern "C" {
    /// The options object, typed as `ChatWebSocketOptions` for TypeScript.
    #[wasm_bindgen(typescript_type = "ChatWebSocketOptions")]
    pub type OptionsBag;
}

/// Property names looked up on every frame, created once per manager.
struct Keys {
    kind: JsValue,
    data: JsValue,
    message_id: JsValue,
    token: JsValue,
    content: JsValue,
    /// The `type` of each of `FrameKind::TYPED`, compared without copying the frame's
    /// type string into wasm.
    types: [JsValue; 5],
}

/// A JS string that tokens are concatenated onto in JS: the streamed text never crosses
/// into wasm memory.
#[derive(Clone)]
struct JsText(JsValue);

impl Default for JsText {
    fn default() -> Self {
        JsText(JsValue::from_str(""))
    }
}

impl StreamText for JsText {
    fn append(&mut self, token: &Self) {
        self.0 = self.0.unchecked_ref::<JsString>().concat(&token.0).into();
    }
}

struct Inner {
    /// The one closure every event, timer and promise executor of this manager calls
    /// (see `incoming`); freed with the manager.
    listener: Listener,
    session_id: JsValue,
    auth_token: JsValue,
    options: Options<JsValue>,
    life: Lifecycle,
    socket: Option<Socket>,
    heartbeat: Option<Heartbeat>,
    /// The one pending timer: the heartbeat's next tick while open, the next attempt
    /// while reconnecting (never both: see `on_timer`).
    timer: Option<Timeout>,
    reconnect_due_at: f64,
    outbox: Outbox<JsValue>,
    streams: StreamAccumulator<JsValue, JsText>,
    callbacks: Callbacks,
    /// `resolve` of each pending `connect()` promise (a rejection resolves it with a
    /// rejected promise, so `reject` is never kept).
    waiters: Vec<Function>,
    page: Option<PageLife>,
    /// Bumped for every attempt, so a late token answer for an old one is ignored.
    attempt: u32,
    sent_chats: u32,
    keys: Keys,
}

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
        options: Option<OptionsBag>,
    ) -> Result<ChatWebSocketManager, JsValue> {
        if !session_id.is_string() || session_id == "" {
            return Err(type_error(&[
                &"chatwire: sessionId must be a non-empty string",
            ]));
        }
        if !auth_token.is_string() && !auth_token.is_function() {
            return Err(type_error(&[
                &"chatwire: authToken must be a string or a function returning a string or a Promise of one",
            ]));
        }
        let options = read_options(&options.map_or(JsValue::UNDEFINED, Into::into))?;
        let shared = Rc::new_cyclic(|weak: &Weak<RefCell<Inner>>| {
            let weak = weak.clone();
            RefCell::new(Inner {
                listener: Listener::new(move |value| on_incoming(&weak, value)),
                session_id,
                auth_token,
                life: Lifecycle::new(options.reconnect),
                outbox: Outbox::new(options.outbox_limit),
                options,
                socket: None,
                heartbeat: None,
                timer: None,
                reconnect_due_at: 0.0,
                streams: StreamAccumulator::default(),
                callbacks: Callbacks::default(),
                waiters: Vec::new(),
                page: None,
                attempt: 0,
                sent_chats: 0,
                keys: Keys {
                    kind: JsValue::from_str("type"),
                    data: JsValue::from_str("data"),
                    message_id: JsValue::from_str("message_id"),
                    token: JsValue::from_str("token"),
                    content: JsValue::from_str("content"),
                    types: FrameKind::TYPED.map(|(_, name)| JsValue::from_str(name)),
                },
            })
        });
        Ok(ChatWebSocketManager { shared })
    }

    /// Opens the connection. Resolves once it is open (at once if it already is); while
    /// the manager reconnects the promise stays pending. Rejects with an `Error` whose
    /// `code` is `reconnect_failed`, `unauthorized`, `policy_violation`, `invalid_url` or
    /// `disconnected` when the manager ends up `failed` or `closed` instead.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn connect(&self) -> JsValue {
        if self.shared.borrow().life.state() == ConnectionState::Open {
            return JsPromise::resolve(&JsValue::UNDEFINED).into();
        }
        // The manager's closure is the executor: it keeps `resolve` (`Incoming::Resolve`).
        let listener = self.shared.borrow().listener.function().clone();
        let promise = JsPromise::new(&listener);
        start(&self.shared);
        promise.into()
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
        start(&self.shared)
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
        let keys_ok = {
            let inner = self.shared.borrow();
            get(&frame, &inner.keys.kind).is_string()
        };
        if !keys_ok {
            return Err(type_error(&[
                &"chatwire: sendMessage needs an object with a string `type`",
            ]));
        }
        let text = stringify(&frame)
            .map_err(|_| type_error(&[&"chatwire: the frame cannot be serialised to JSON"]))?;
        Ok(send_text(&self.shared, text))
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
        let conversation_id = conversation_id.map(JsValue::from);
        if !message.is_string() || conversation_id.as_ref().is_some_and(|id| !id.is_string()) {
            return Err(type_error(&[
                &"chatwire: sendChat(message, conversationId?) takes strings",
            ]));
        }
        let id = {
            let mut inner = self.shared.borrow_mut();
            inner.sent_chats = inner.sent_chats.wrapping_add(1);
            let [time, count, random] =
                client_message_id_parts(date_now(), inner.sent_chats, math_random()).map(base36);
            concat(&[&PREFIX, &time, &SEPARATOR, &count, &SEPARATOR, &random])
        };
        let data = Object::new();
        set(&data, "message", &message);
        if let Some(conversation_id) = conversation_id {
            set(&data, "conversation_id", &conversation_id);
        }
        set(&data, "client_message_id", &id);
        let frame = Object::new();
        set(&frame, "type", &JsValue::from_str("chat_message"));
        set(&frame, "data", &data);
        // A frame of strings always has a `type` and always serialises.
        send_text(&self.shared, stringify(&frame).unwrap_or_default());
        Ok(id)
    }

    /// The connection state.
    #[wasm_bindgen(getter, unchecked_return_type = "ConnectionState")]
    pub fn state(&self) -> JsValue {
        JsValue::from_str(self.shared.borrow().life.state().as_str())
    }

    /// True while the socket is open.
    #[wasm_bindgen(getter, js_name = isConnected)]
    pub fn is_connected(&self) -> bool {
        self.shared.borrow().life.state() == ConnectionState::Open
    }

    /// While `reconnecting`: milliseconds until the next attempt (for a countdown).
    #[wasm_bindgen(getter, js_name = reconnectDelayMs, unchecked_return_type = "number | undefined")]
    pub fn reconnect_delay_ms(&self) -> JsValue {
        let inner = self.shared.borrow();
        if inner.life.state() == ConnectionState::Reconnecting {
            JsValue::from_f64((inner.reconnect_due_at - date_now()).max(0.0))
        } else {
            JsValue::UNDEFINED
        }
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
    on_state_change,
    set_on_state_change,
    "onStateChange",
    Slot::StateChange,
    "((state: ConnectionState) => void) | null | undefined"
);

impl Drop for ChatWebSocketManager {
    /// `free()` (or garbage collection): stop quietly and release every closure.
    fn drop(&mut self) {
        let Ok(mut inner) = self.shared.try_borrow_mut() else {
            return;
        };
        let waiters = inner.stop();
        drop(inner);
        settle(waiters, Err(ErrorCode::Disconnected));
    }
}

impl Inner {
    /// Stops for good (`closed`): no socket, timers or page listeners. Returns the pending
    /// `connect()` promises for the caller to reject once no borrow is held.
    fn stop(&mut self) -> Vec<Function> {
        self.life.stop();
        self.release_connection();
        self.page = None;
        mem::take(&mut self.waiters)
    }

    /// Drops the socket, timers and in-flight streams; later token answers are ignored.
    fn release_connection(&mut self) {
        self.socket = None;
        self.heartbeat = None;
        self.timer = None;
        self.streams.clear();
        self.attempt = self.attempt.wrapping_add(1);
    }

    /// The `url` option, or the base derived from the page.
    fn base_url(&self) -> JsValue {
        self.options.url.clone().unwrap_or_else(page_base)
    }
}

/// Runs `change` on the state and calls `onStateChange` afterwards if the state moved.
fn with_state_change<R>(shared: &Shared, change: impl FnOnce(&mut Inner) -> R) -> R {
    let (result, before) = {
        let mut inner = shared.borrow_mut();
        let before = inner.life.state();
        (change(&mut inner), before)
    };
    announce_state(shared, before);
    result
}

/// Calls `onStateChange` if the state is no longer `before`.
fn announce_state(shared: &Shared, before: ConnectionState) {
    let (after, callback) = {
        let inner = shared.borrow();
        (inner.life.state(), inner.callbacks.get(Slot::StateChange))
    };
    if before != after {
        invoke(
            callback,
            Slot::StateChange,
            &JsValue::from_str(after.as_str()),
        );
    }
}

fn emit(shared: &Shared, slot: Slot, arg: &JsValue) {
    let callback = shared.borrow().callbacks.get(slot);
    invoke(callback, slot, arg);
}

fn report(shared: &Shared, code: ErrorCode) {
    emit(shared, Slot::Error, &error_frame(code, None));
}

fn settle(waiters: Vec<Function>, outcome: Result<(), ErrorCode>) {
    for resolve in waiters {
        let value = match outcome {
            Ok(()) => JsValue::UNDEFINED,
            Err(code) => JsPromise::reject(&coded_error(code)).into(),
        };
        let _ = resolve.call1(&JsValue::UNDEFINED, &value);
    }
}

/// `connect()`, `retry()`, or the network coming back after a failure.
fn start(shared: &Shared) -> bool {
    let started = with_state_change(shared, |inner| {
        let started = inner.life.start();
        if started {
            inner.release_connection();
            if inner.page.is_none() {
                inner.page = Some(PageLife::listen(inner.listener.function()));
            }
        }
        started
    });
    if started {
        begin_attempt(shared);
    }
    started
}

/// Gets the token (calling the token function if there is one), then opens a socket.
fn begin_attempt(shared: &Shared) {
    let (token, attempt) = {
        let mut inner = shared.borrow_mut();
        inner.attempt = inner.attempt.wrapping_add(1);
        (inner.auth_token.clone(), inner.attempt)
    };
    let Some(token_fn) = token.dyn_ref::<Function>() else {
        open_socket(shared, &token);
        return;
    };
    // `call1` with `undefined` rather than `call0`: one import fewer (callbacks use call1).
    let answer = match token_fn.call1(&JsValue::UNDEFINED, &JsValue::UNDEFINED) {
        Ok(answer) => answer,
        Err(_) => return token_failed(shared),
    };
    if answer.is_string() {
        return open_socket(shared, &answer);
    }
    // Its own closure, not the manager's: the manager may be freed before the promise
    // settles, and calling a freed closure throws. It is called exactly once (see
    // `when_settled`); it then drops its own handle, and wasm-bindgen frees it when the
    // call returns.
    let weak = Rc::downgrade(shared);
    let own: Rc<RefCell<Option<Handler>>> = Rc::default();
    let handle = own.clone();
    let on_settled = Handler::new(move |token: JsValue| {
        drop(handle.borrow_mut().take());
        let Some(shared) = weak.upgrade() else { return };
        let current = {
            let inner = shared.borrow();
            inner.attempt == attempt && inner.life.state() == ConnectionState::Connecting
        };
        if !current {
            return;
        }
        if token.is_string() {
            open_socket(&shared, &token);
        } else {
            token_failed(&shared);
        }
    });
    crate::js::when_settled(&answer, on_settled.as_ref());
    *own.borrow_mut() = Some(on_settled);
}

fn token_failed(shared: &Shared) {
    report(shared, ErrorCode::TokenFailed);
    on_lost(shared, 1006);
}

fn open_socket(shared: &Shared, token: &JsValue) {
    let url = {
        let inner = shared.borrow();
        chat_url(&inner.base_url(), &inner.session_id, token)
    };
    let socket = url
        .map_err(|_| ())
        .and_then(|url| Socket::open(&url, shared.borrow().listener.function()).map_err(|_| ()));
    match socket {
        Ok(socket) => shared.borrow_mut().socket = Some(socket),
        Err(()) => {
            let waiters = with_state_change(shared, Inner::stop);
            report(shared, ErrorCode::InvalidUrl);
            settle(waiters, Err(ErrorCode::InvalidUrl));
        }
    }
}

/// Every call of the manager's closure: socket and page events, timers, executors.
fn on_incoming(weak: &Weak<RefCell<Inner>>, value: JsValue) {
    let Some(shared) = weak.upgrade() else { return };
    match Incoming::classify(value) {
        Incoming::Frame(data) => on_frame(&shared, data),
        Incoming::Tick => on_timer(&shared),
        Incoming::Open => on_open(&shared),
        Incoming::Close(code) => on_lost(&shared, code),
        Incoming::Page(event) => on_page_event(&shared, event),
        Incoming::Resolve(resolve) => shared.borrow_mut().waiters.push(resolve),
        Incoming::Ignored => {}
    }
}

fn on_open(shared: &Shared) {
    let waiters = with_state_change(shared, |inner| {
        inner.life.opened();
        let interval = inner.options.heartbeat_interval_ms;
        if interval > 0.0 {
            let heartbeat =
                Heartbeat::new(interval, inner.options.heartbeat_timeout_ms, date_now());
            inner.timer = Some(heartbeat_timer(inner, heartbeat.first_tick_ms()));
            inner.heartbeat = Some(heartbeat);
        }
        let Inner { socket, outbox, .. } = inner;
        if let Some(socket) = socket {
            outbox.flush(|text| socket.send(text).is_ok());
        }
        mem::take(&mut inner.waiters)
    });
    settle(waiters, Ok(()));
}

fn on_frame(shared: &Shared, data: JsValue) {
    let dispatch = {
        let mut guard = shared.borrow_mut();
        let inner = &mut *guard;
        if let Some(heartbeat) = &mut inner.heartbeat {
            heartbeat.frame_received();
        }
        decode(&inner.keys, &data).map(|(kind, frame)| {
            accumulate(inner, kind, &frame);
            let slot = Slot::for_frame(kind);
            (slot, frame, inner.callbacks.get(slot))
        })
    };
    match dispatch {
        Some((slot, frame, callback)) => invoke(callback, slot, &frame),
        None => {
            emit(
                shared,
                Slot::Error,
                &error_frame(ErrorCode::BadFrame, Some(&data)),
            );
        }
    }
}

/// Parses a text frame into `(kind, object)`; `None` for anything that is not a JSON
/// object with a string `type` (binary frames included: `JSON.parse` refuses them).
fn decode(keys: &Keys, data: &JsValue) -> Option<(FrameKind, JsValue)> {
    let frame = parse_json(data).ok()?;
    let kind = get_plain(&frame, &keys.kind);
    // Compare first: a `stream_token` frame then needs no other check.
    match FrameKind::classify(|index, _| kind == keys.types[index]) {
        FrameKind::Unknown if !kind.is_string() => None,
        known => Some((known, frame)),
    }
}

/// Keeps the text of streamed replies; fills `data.content` on `stream_complete` when the
/// server left it out.
fn accumulate(inner: &mut Inner, kind: FrameKind, frame: &JsValue) {
    let keys = &inner.keys;
    let data = match kind {
        FrameKind::StreamToken | FrameKind::StreamComplete => get_plain(frame, &keys.data),
        _ => return,
    };
    if !data.is_object() {
        return;
    }
    let message_id = get_object_field(&data, &keys.message_id);
    if message_id.is_undefined() {
        return;
    }
    if kind == FrameKind::StreamToken {
        let token = get_object_field(&data, &keys.token);
        if token.is_string() {
            inner.streams.push(&message_id, &JsText(token));
        }
        return;
    }
    let text = inner.streams.finish(&message_id).unwrap_or_default();
    if get_object_field(&data, &keys.content).is_undefined() {
        set_object_field(&data, &keys.content, &text.0);
    }
}

fn on_lost(shared: &Shared, code: u16) {
    let random = math_random();
    let (outcome, waiters) = with_state_change(shared, |inner| {
        inner.release_connection();
        let outcome = inner.life.lost(code, random);
        let waiters = match outcome {
            AfterLoss::Reconnect { delay_ms, .. } => {
                inner.reconnect_due_at = date_now() + delay_ms;
                inner.timer = Some(schedule(inner, delay_ms));
                Vec::new()
            }
            AfterLoss::GiveUp => mem::take(&mut inner.waiters),
            AfterLoss::Refused(_) => {
                inner.page = None;
                mem::take(&mut inner.waiters)
            }
        };
        (outcome, waiters)
    });
    let error = match outcome {
        AfterLoss::Reconnect { .. } => return,
        AfterLoss::GiveUp => ErrorCode::ReconnectFailed,
        AfterLoss::Refused(error) => error,
    };
    report(shared, error);
    settle(waiters, Err(error));
}

fn reconnect_now(shared: &Shared) {
    let due = with_state_change(shared, |inner| {
        inner.timer = None;
        inner.life.reconnect_due()
    });
    if due {
        begin_attempt(shared);
    }
}

/// Calls `on_timer` after `after_ms`.
fn schedule(inner: &Inner, after_ms: f64) -> Timeout {
    Timeout::new(after_ms, inner.listener.function())
}

fn heartbeat_timer(inner: &Inner, after_ms: f64) -> Timeout {
    // +1 ms: a timer that fires a fraction early would only tick again at once.
    schedule(inner, after_ms + 1.0)
}

/// The timer fired: what it was for follows from the state, since only an open socket
/// has a heartbeat and only a reconnecting manager waits for its next attempt.
fn on_timer(shared: &Shared) {
    let state = shared.borrow().life.state();
    match state {
        ConnectionState::Open => on_heartbeat_tick(shared),
        ConnectionState::Reconnecting => reconnect_now(shared),
        _ => {}
    }
}

fn on_heartbeat_tick(shared: &Shared) {
    let mut inner = shared.borrow_mut();
    let Some(heartbeat) = &mut inner.heartbeat else {
        return;
    };
    let next_tick_ms = match heartbeat.tick(date_now()) {
        Beat::Ping { next_tick_ms } => {
            send_ping(&inner);
            next_tick_ms
        }
        Beat::Wait { next_tick_ms } => next_tick_ms,
        Beat::Dead => {
            drop(inner);
            // The socket may still say OPEN; treat it as gone and reconnect.
            on_lost(shared, 1006);
            return;
        }
    };
    inner.timer = Some(heartbeat_timer(&inner, next_tick_ms));
}

fn send_ping(inner: &Inner) {
    if let Some(socket) = &inner.socket {
        let _ = socket.send(&JsValue::from_str("{\"type\":\"ping\"}"));
    }
}

fn on_page_event(shared: &Shared, event: PageEvent) {
    let state = shared.borrow().life.state();
    match (event, state) {
        (PageEvent::Online | PageEvent::Visible, ConnectionState::Reconnecting) => {
            reconnect_now(shared)
        }
        (PageEvent::Online, ConnectionState::Failed) => {
            start(shared);
        }
        (PageEvent::Offline, ConnectionState::Open) => {
            let mut inner = shared.borrow_mut();
            let probe = inner.heartbeat.as_mut().map(|hb| hb.probe(date_now()));
            match probe {
                Some(Some(next_tick_ms)) => {
                    send_ping(&inner);
                    inner.timer = Some(heartbeat_timer(&inner, next_tick_ms));
                }
                Some(None) => {}
                None => send_ping(&inner),
            }
        }
        _ => {}
    }
}

fn send_text(shared: &Shared, text: JsValue) -> bool {
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

fn read_options(value: &JsValue) -> Result<Options<JsValue>, JsValue> {
    let mut options = Options::default();
    if value.is_undefined() || value.is_null() {
        return Ok(options);
    }
    if !value.is_object() || value.is_function() || Array::is_array(value) {
        return Err(type_error(&[&"chatwire: options must be an object"]));
    }
    let names = Object::keys(value);
    for index in 0..names.length() {
        let name = names.get(index);
        let field = get(value, &name);
        let field = if field.is_undefined() {
            OptionValue::Absent
        } else if field.js_typeof() == "number" {
            OptionValue::Number(field.unchecked_into_f64())
        } else if field.is_string() {
            OptionValue::Text(field)
        } else {
            OptionValue::Other
        };
        let index = Options::<JsValue>::NAMES
            .iter()
            .position(|known| name == *known)
            .unwrap_or(usize::MAX);
        options
            .set(index, field)
            .map_err(|error| type_error(&[&OPTION_MESSAGE_PREFIX, &name, &error.suffix()]))?;
    }
    Ok(options)
}
