//! Browser tests of `ChatWebSocketManager` against the scripted WebSocket server in
//! `tests/server/ws-server.mjs` (started by `scripts/test.sh`; its URL comes in through
//! `CHATWIRE_TEST_WS` at compile time). Run: `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use chatwire::ChatWebSocketManager;
use js_sys::{Function, Object, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SERVER: &str = match option_env!("CHATWIRE_TEST_WS") {
    Some(url) => url,
    None => "ws://127.0.0.1:18765",
};

/// The same server on its second port, for sessions whose upgrades are refused (`down`,
/// `flaky3`): Firefox slows further attempts to a host:port after repeated failures.
const REFUSING_SERVER: &str = match option_env!("CHATWIRE_TEST_WS_REFUSING") {
    Some(url) => url,
    None => "ws://127.0.0.1:18766",
};

// Counts, from outside the package, what managers leave behind: event listeners still
// registered, sockets not closed, timers neither fired nor cleared. Installed by the
// resource test before it makes its managers; only what is registered after counts.
#[wasm_bindgen(inline_js = r#"
export function install_leak_probe() {
  if (globalThis.__chatwireLeaks) return;
  const state = { listeners: 0, sockets: 0, timers: new Set(), registered: new WeakMap() };
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  EventTarget.prototype.addEventListener = function (type, listener, options) {
    let byType = state.registered.get(this);
    if (!byType) state.registered.set(this, (byType = new Map()));
    if (!byType.has(type)) byType.set(type, new Set());
    const set = byType.get(type);
    if (!set.has(listener)) { set.add(listener); state.listeners++; }
    return add.call(this, type, listener, options);
  };
  EventTarget.prototype.removeEventListener = function (type, listener, options) {
    if (state.registered.get(this)?.get(type)?.delete(listener)) state.listeners--;
    return remove.call(this, type, listener, options);
  };
  const NativeWebSocket = globalThis.WebSocket;
  globalThis.WebSocket = class extends NativeWebSocket {
    constructor(...args) { super(...args); state.sockets++; this.__counted = true; }
    close(...args) {
      if (this.__counted) { this.__counted = false; state.sockets--; }
      return super.close(...args);
    }
  };
  const set = globalThis.setTimeout;
  const clear = globalThis.clearTimeout;
  globalThis.setTimeout = (callback, ms, ...args) => {
    const id = set((...a) => { state.timers.delete(id); callback(...a); }, ms, ...args);
    state.timers.add(id);
    return id;
  };
  globalThis.clearTimeout = (id) => { state.timers.delete(id); clear(id); };
  globalThis.__chatwireLeaks = state;
}
export function live_listeners() { return globalThis.__chatwireLeaks.listeners; }
export function live_sockets() { return globalThis.__chatwireLeaks.sockets; }
export function pending_timers() { return globalThis.__chatwireLeaks.timers.size; }
"#)]
extern "C" {
    fn install_leak_probe();
    fn live_listeners() -> u32;
    fn live_sockets() -> u32;
    fn pending_timers() -> u32;
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: i32) -> JsValue;
    #[wasm_bindgen(js_name = dispatchEvent)]
    fn dispatch_event(event: &web_sys::Event) -> bool;
}

type Setter = fn(&ChatWebSocketManager, JsValue) -> Result<(), JsValue>;

const CALLBACKS: [(&str, Setter); 8] = [
    ("onPong", ChatWebSocketManager::set_on_pong),
    ("onStreamToken", ChatWebSocketManager::set_on_stream_token),
    (
        "onStreamComplete",
        ChatWebSocketManager::set_on_stream_complete,
    ),
    ("onChatMessage", ChatWebSocketManager::set_on_chat_message),
    ("onError", ChatWebSocketManager::set_on_error),
    ("onUnknown", ChatWebSocketManager::set_on_unknown),
    ("onStateChange", ChatWebSocketManager::set_on_state_change),
    ("onResumed", ChatWebSocketManager::set_on_resumed),
];

/// A manager with every callback recording into `events` as `(callback name, argument)`.
struct Probe {
    manager: ChatWebSocketManager,
    events: Rc<RefCell<Vec<(&'static str, JsValue)>>>,
    _closures: Vec<Closure<dyn FnMut(JsValue)>>,
}

fn unique(kind: &str) -> String {
    thread_local!(static NEXT: Cell<u32> = const { Cell::new(0) });
    let n = NEXT.with(|next| {
        next.set(next.get() + 1);
        next.get()
    });
    format!("{kind}-{}-{n}", js_sys::Date::now())
}

fn json(text: &str) -> JsValue {
    JSON::parse(text).expect("test JSON")
}

fn options(extra: &str) -> JsValue {
    options_at(SERVER, extra)
}

fn options_at(server: &str, extra: &str) -> JsValue {
    let text = format!("{{\"url\":\"{server}\",\"baseDelayMs\":20,\"maxDelayMs\":200{extra}}}");
    json(&text)
}

fn probe(session: &str, token: JsValue, options: JsValue) -> Probe {
    let manager = ChatWebSocketManager::new(session.into(), token, options).expect("valid manager");
    let events: Rc<RefCell<Vec<(&'static str, JsValue)>>> = Rc::default();
    let mut closures = Vec::new();
    for (name, setter) in CALLBACKS {
        let sink = events.clone();
        let closure = Closure::<dyn FnMut(JsValue)>::new(move |arg: JsValue| {
            sink.borrow_mut().push((name, arg));
        });
        setter(&manager, closure.as_ref().clone()).unwrap();
        closures.push(closure);
    }
    Probe {
        manager,
        events,
        _closures: closures,
    }
}

impl Probe {
    fn new(kind: &str, extra_options: &str) -> Probe {
        probe(&unique(kind), "secret-token".into(), options(extra_options))
    }

    fn of(&self, name: &str) -> Vec<JsValue> {
        self.events
            .borrow()
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn states(&self) -> Vec<String> {
        self.of("onStateChange")
            .iter()
            .map(|s| s.as_string().unwrap())
            .collect()
    }

    fn error_codes(&self) -> Vec<String> {
        self.of("onError")
            .iter()
            .map(|f| path(f, "data.code"))
            .collect()
    }

    fn hellos(&self) -> Vec<JsValue> {
        self.of("onUnknown")
            .into_iter()
            .filter(|f| path(f, "type") == "hello")
            .collect()
    }

    fn echoes(&self) -> Vec<JsValue> {
        self.of("onUnknown")
            .into_iter()
            .filter(|f| path(f, "type") == "echo")
            .collect()
    }

    fn script(&self, script: &str) {
        let frame = json(&format!("{{\"type\":\"script\",\"data\":{script}}}"));
        assert!(
            self.manager.send_message(frame).unwrap(),
            "script sent while open"
        );
    }

    fn state(&self) -> String {
        self.manager.state().as_string().unwrap()
    }

    async fn connect(&self) -> Result<JsValue, JsValue> {
        JsFuture::from(self.manager.connect()).await
    }
}

/// `frame.a.b` as a string (numbers and booleans are stringified).
fn path(value: &JsValue, dotted: &str) -> String {
    let mut current = value.clone();
    for key in dotted.split('.') {
        current = Reflect::get(&current, &key.into()).unwrap_or(JsValue::UNDEFINED);
    }
    current
        .as_string()
        .or_else(|| current.as_f64().map(|n| n.to_string()))
        .or_else(|| current.as_bool().map(|b| b.to_string()))
        .unwrap_or_else(|| format!("{current:?}"))
}

async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    });
    JsFuture::from(promise).await.unwrap();
}

/// Waits (polling every 5 ms, at most 4 s) until `condition` holds.
async fn until(what: &str, condition: impl Fn() -> bool) {
    until_within(what, 4_000, condition).await;
}

/// Waits (polling every 5 ms, at most `ms`) until `condition` holds.
async fn until_within(what: &str, ms: i32, condition: impl Fn() -> bool) {
    for _ in 0..ms / 5 {
        if condition() {
            return;
        }
        sleep(5).await;
    }
    panic!("timed out waiting for: {what}");
}

// ---------------------------------------------------------------- connecting and the URL

#[wasm_bindgen_test]
async fn connect_resolves_on_open_and_reports_states() {
    let p = Probe::new("echo", "");
    assert_eq!(p.state(), "idle");
    assert!(!p.manager.is_connected());
    p.connect().await.expect("connect resolves");
    assert_eq!(p.state(), "open");
    assert!(p.manager.is_connected());
    assert_eq!(p.states(), ["connecting", "open"]);
    // Already open: resolves at once without a new connection.
    p.connect().await.expect("second connect resolves");
    until("hello", || p.hellos().len() == 1).await;
    assert_eq!(path(&p.hellos()[0], "data.token"), "secret-token");
    p.manager.disconnect();
}

#[wasm_bindgen_test]
async fn session_id_and_token_are_url_encoded() {
    let session = unique("echo") + " a/b?c";
    let p = probe(&session, "t&k=1 é".into(), options(""));
    p.connect().await.unwrap();
    until("hello", || p.hellos().len() == 1).await;
    assert_eq!(path(&p.hellos()[0], "data.session"), session);
    assert_eq!(path(&p.hellos()[0], "data.token"), "t&k=1 é");
    p.manager.disconnect();
}

#[wasm_bindgen_test]
async fn invalid_url_rejects_connect_with_a_clear_code() {
    let p = probe(
        &unique("echo"),
        "t".into(),
        json(r#"{"url":"localhost:8000"}"#),
    );
    let error = p.connect().await.expect_err("connect must reject");
    assert_eq!(path(&error, "code"), "invalid_url");
    assert!(path(&error, "message").contains("invalid WebSocket URL"));
    assert_eq!(p.state(), "closed");
    assert_eq!(p.error_codes(), ["invalid_url"]);
}

fn endpoint(base: &str, session: &str, token: &str) -> Option<String> {
    chatwire::browser::endpoint::chat_url(Some(base), session, token).ok()
}

#[wasm_bindgen_test]
fn endpoint_urls_follow_the_django_channels_path() {
    let cases = [
        (
            "ws://localhost:8000",
            "session_123",
            "abc",
            "ws://localhost:8000/ws/chat/session_123/?token=abc",
        ),
        (
            "wss://chat.example/api/",
            "s",
            "t",
            "wss://chat.example/api/ws/chat/s/?token=t",
        ),
        (
            "wss://chat.example/api",
            "s",
            "t",
            "wss://chat.example/api/ws/chat/s/?token=t",
        ),
        ("HTTPS://h:9", "s", "t", "wss://h:9/ws/chat/s/?token=t"),
        ("http://h", "s", "t", "ws://h/ws/chat/s/?token=t"),
        (
            "ws://h",
            "a b/c?",
            "x+y=z&é",
            "ws://h/ws/chat/a%20b%2Fc%3F/?token=x%2By%3Dz%26%C3%A9",
        ),
        (
            "ws://h",
            "-_.!~*'()",
            "",
            "ws://h/ws/chat/-_.!~*'()/?token=",
        ),
    ];
    for (base, session, token, expected) in cases {
        assert_eq!(
            endpoint(base, session, token).as_deref(),
            Some(expected),
            "{base}"
        );
    }
    for bad in [
        "",
        "localhost:8000",
        "ftp://h",
        "ws://",
        "ws://h?x=1",
        "ws://h#f",
        "ws://u@h",
        "ws://u:p@h",
        "ws://h h",
    ] {
        assert_eq!(endpoint(bad, "s", "t"), None, "{bad:?} must be refused");
    }
    assert_eq!(endpoint("ws://h", "", "t"), None, "empty session refused");
    // A lone surrogate cannot be URI-encoded without changing it, so it is refused.
    let lone_surrogate: JsValue = js_sys::JsString::from_char_code1(0xd800).into();
    let refused = ChatWebSocketManager::new("s".into(), lone_surrogate, JsValue::UNDEFINED);
    assert!(refused.err().unwrap().is_instance_of::<js_sys::TypeError>());
}

#[wasm_bindgen_test]
fn bad_constructor_arguments_throw_type_errors() {
    let unknown =
        ChatWebSocketManager::new("s".into(), "t".into(), json(r#"{"maxReconectAttempts":3}"#));
    let error = unknown.err().expect("unknown option refused");
    assert!(error.is_instance_of::<js_sys::TypeError>());
    assert!(path(&error, "message").contains("`maxReconectAttempts` is not a known option"));

    let wrong = ChatWebSocketManager::new("s".into(), "t".into(), json(r#"{"baseDelayMs":"20"}"#));
    assert!(path(&wrong.err().unwrap(), "message").contains("`baseDelayMs` must be a number"));
    let range = ChatWebSocketManager::new("s".into(), "t".into(), json(r#"{"jitter":2}"#));
    assert!(
        path(&range.err().unwrap(), "message").contains("`jitter` must be a number from 0 to 1")
    );
    let token = ChatWebSocketManager::new("s".into(), JsValue::from(5), JsValue::UNDEFINED);
    assert!(token.err().unwrap().is_instance_of::<js_sys::TypeError>());
    let session = ChatWebSocketManager::new("".into(), "t".into(), JsValue::UNDEFINED);
    assert!(session.is_err());
    let session = ChatWebSocketManager::new(JsValue::from(7), "t".into(), JsValue::UNDEFINED);
    assert!(session.err().unwrap().is_instance_of::<js_sys::TypeError>());
    let manager = ChatWebSocketManager::new("s".into(), "t".into(), JsValue::UNDEFINED).unwrap();
    assert!(
        manager.set_on_pong(JsValue::from(3)).is_err(),
        "non-function callback refused"
    );
    assert!(manager.set_on_pong(JsValue::NULL).is_ok());
}

// ---------------------------------------------------------------- dispatch

#[wasm_bindgen_test]
async fn frames_are_dispatched_by_type_as_whole_frames() {
    let p = Probe::new("echo", "");
    p.connect().await.unwrap();
    p.script(
        r#"{"action":"send","frames":[
            {"type":"pong","data":{"n":1}},
            {"type":"stream_token","data":{"message_id":"m","token":"Hi","seq":0}},
            {"type":"stream_complete","data":{"message_id":"m","content":"Hi","finish_reason":"stop"}},
            {"type":"chat_message","data":{"message_id":"x","role":"assistant","content":"whole"}},
            {"type":"error","data":{"code":"busy","message":"busy","retryable":true}},
            {"type":"reasoning_token","data":{"message_id":"m","token":"hmm"}}]}"#,
    );
    until("all six frames", || p.of("onUnknown").len() == 2).await;
    assert_eq!(path(&p.of("onPong")[0], "data.n"), "1");
    assert_eq!(path(&p.of("onStreamToken")[0], "data.token"), "Hi");
    assert_eq!(path(&p.of("onStreamToken")[0], "type"), "stream_token");
    assert_eq!(
        path(&p.of("onStreamComplete")[0], "data.finish_reason"),
        "stop"
    );
    assert_eq!(path(&p.of("onChatMessage")[0], "data.content"), "whole");
    assert_eq!(p.error_codes(), ["busy"]);
    assert_eq!(path(&p.of("onUnknown")[1], "type"), "reasoning_token");
    p.manager.disconnect();
}

#[wasm_bindgen_test]
async fn bad_frames_become_bad_frame_errors_and_dispatch_goes_on() {
    let p = Probe::new("echo", "");
    p.connect().await.unwrap();
    p.script(r#"{"action":"send","frames":["not json","{\"no_type\":1}","[1,2]","5","null","{\"type\":7}",{"type":"pong"}]}"#);
    until("the pong after the garbage", || p.of("onPong").len() == 1).await;
    assert_eq!(p.error_codes(), ["bad_frame"; 6]);
    assert_eq!(path(&p.of("onError")[0], "data.raw"), "not json");
    assert_eq!(p.state(), "open");
    p.manager.disconnect();
}

#[wasm_bindgen_test]
async fn a_throwing_callback_does_not_stop_dispatch() {
    let p = Probe::new("echo", "");
    let thrower = Function::new_no_args("throw new Error('app bug')");
    p.manager.set_on_stream_token(thrower.into()).unwrap();
    p.connect().await.unwrap();
    p.script(r#"{"action":"stream","message_id":"m1","tokens":["a","b"]}"#);
    until("completion after throwing token callbacks", || {
        p.of("onStreamComplete").len() == 1
    })
    .await;
    assert_eq!(path(&p.of("onStreamComplete")[0], "data.content"), "ab");
    assert_eq!(p.state(), "open");
    p.manager.disconnect();
}

#[wasm_bindgen_test]
async fn stream_complete_carries_the_accumulated_text() {
    let p = Probe::new("echo", "");
    p.connect().await.unwrap();
    p.script(r#"{"action":"stream","message_id":"m1","tokens":["Hel","lo, ","wörld"]}"#);
    p.script(r#"{"action":"stream","message_id":"m2","tokens":["x"],"content":"server text"}"#);
    until("two completions", || p.of("onStreamComplete").len() == 2).await;
    let complete = p.of("onStreamComplete");
    assert_eq!(path(&complete[0], "data.content"), "Hello, wörld");
    assert_eq!(path(&complete[0], "data.message_id"), "m1");
    assert_eq!(
        path(&complete[1], "data.content"),
        "server text",
        "server content wins"
    );
    assert_eq!(p.of("onStreamToken").len(), 4);
    p.manager.disconnect();
}

// ---------------------------------------------------------------- reconnecting

#[wasm_bindgen_test]
async fn reconnects_after_an_unexpected_close_and_resets_attempts() {
    let p = Probe::new("echo", "");
    p.connect().await.unwrap();
    p.script(r#"{"action":"drop"}"#);
    until("reconnecting", || p.state() == "reconnecting").await;
    let delay = p
        .manager
        .reconnect_delay_ms()
        .as_f64()
        .expect("countdown while reconnecting");
    assert!(
        (0.0..=20.0).contains(&delay),
        "first delay is baseDelayMs, got {delay}"
    );
    until("second connection", || p.hellos().len() == 2).await;
    assert_eq!(path(&p.hellos()[1], "data.connection"), "2");
    assert_eq!(
        p.states(),
        ["connecting", "open", "reconnecting", "connecting", "open"]
    );
    assert!(p.manager.reconnect_delay_ms().is_undefined());
    // The count was reset by the successful open: the next loss waits baseDelayMs again.
    p.script(r#"{"action":"close","code":1011}"#);
    until("reconnecting again", || p.state() == "reconnecting").await;
    assert!(p.manager.reconnect_delay_ms().as_f64().unwrap() <= 20.0);
    until("third connection", || p.hellos().len() == 3).await;
    p.manager.disconnect();
}

#[wasm_bindgen_test]
async fn initial_failures_are_retried_until_the_server_accepts() {
    let p = probe(
        &unique("flaky3"),
        "t".into(),
        options_at(REFUSING_SERVER, ""),
    );
    p.connect().await.expect("third attempt opens");
    assert_eq!(
        p.states(),
        [
            "connecting",
            "reconnecting",
            "connecting",
            "reconnecting",
            "connecting",
            "open"
        ]
    );
    p.manager.disconnect();
}

#[wasm_bindgen_test]
async fn gives_up_after_max_attempts_with_reconnect_failed() {
    let p = probe(
        &unique("down"),
        "t".into(),
        options_at(
            REFUSING_SERVER,
            r#","maxReconnectAttempts":2,"baseDelayMs":5"#,
        ),
    );
    let error = p
        .connect()
        .await
        .expect_err("connect rejects once attempts run out");
    assert_eq!(path(&error, "code"), "reconnect_failed");
    assert_eq!(p.state(), "failed");
    assert_eq!(p.error_codes(), ["reconnect_failed"]);
    let attempts = p.states().iter().filter(|s| *s == "connecting").count();
    assert_eq!(attempts, 3, "the first try plus two reconnects");
    // retry() starts over with a fresh count.
    assert!(p.manager.retry());
    // Firefox itself delays WebSocket attempts after repeated failures to one host
    // (network.websocket.delay-failed-reconnects), so allow more time than usual.
    until_within("failed again", 20_000, || p.error_codes().len() == 2).await;
    let attempts = p.states().iter().filter(|s| *s == "connecting").count();
    assert_eq!(attempts, 6);
    assert_eq!(p.state(), "failed");
}

#[wasm_bindgen_test]
async fn never_reconnects_after_disconnect() {
    let p = Probe::new("echo", "");
    p.connect().await.unwrap();
    until("hello", || p.hellos().len() == 1).await;
    p.manager.disconnect();
    assert_eq!(p.state(), "closed");
    assert!(!p.manager.is_connected());
    sleep(150).await; // several reconnect delays (20 ms base)
    assert_eq!(p.states(), ["connecting", "open", "closed"]);
    assert_eq!(p.hellos().len(), 1);
    assert!(p.error_codes().is_empty());
}

#[wasm_bindgen_test]
async fn disconnect_while_connecting_rejects_connect_and_stays_closed() {
    let p = probe(&unique("down"), "t".into(), options_at(REFUSING_SERVER, ""));
    let pending = p.manager.connect();
    p.manager.disconnect();
    let error = JsFuture::from(pending).await.expect_err("rejected");
    assert_eq!(path(&error, "code"), "disconnected");
    sleep(100).await;
    assert_eq!(p.states(), ["connecting", "closed"]);
}

#[wasm_bindgen_test]
async fn auth_refusals_close_without_retrying() {
    // Like the relay, the server accepts the upgrade and then closes with the code
    // (browsers cannot see an HTTP 401), so connect() resolves and the refusal follows.
    for (kind, code) in [
        ("close4401", "unauthorized"),
        ("close4403", "unauthorized"),
        ("close1008", "policy_violation"),
    ] {
        let p = probe(&unique(kind), "wrong".into(), options(""));
        p.connect().await.expect("the upgrade itself succeeds");
        until("closed", || p.state() == "closed").await;
        sleep(80).await;
        assert_eq!(
            p.states(),
            ["connecting", "open", "closed"],
            "{kind}: no reconnect"
        );
        assert_eq!(p.error_codes(), [code]);
    }
}

// ---------------------------------------------------------------- heartbeat

#[wasm_bindgen_test]
async fn heartbeat_pings_and_pongs_keep_the_connection() {
    let p = Probe::new(
        "echo",
        r#","heartbeatIntervalMs":20,"heartbeatTimeoutMs":200"#,
    );
    p.connect().await.unwrap();
    until("three pongs", || p.of("onPong").len() >= 3).await;
    assert_eq!(p.states(), ["connecting", "open"]);
    p.manager.disconnect();
}

#[wasm_bindgen_test]
async fn a_silent_socket_is_declared_dead_and_replaced() {
    let p = probe(
        &unique("silent"),
        "t".into(),
        options(r#","heartbeatIntervalMs":30,"heartbeatTimeoutMs":40"#),
    );
    p.connect().await.unwrap();
    until("reconnect after a missed pong", || p.hellos().len() >= 2).await;
    let states = p.states();
    assert_eq!(
        states[..4],
        ["connecting", "open", "reconnecting", "connecting"]
    );
    p.manager.disconnect();
}

#[wasm_bindgen_test]
async fn heartbeat_zero_sends_no_pings() {
    let p = Probe::new("echo", r#","heartbeatIntervalMs":0"#);
    p.connect().await.unwrap();
    sleep(100).await;
    assert!(p.of("onPong").is_empty());
    p.manager.disconnect();
}

// ---------------------------------------------------------------- sending

#[wasm_bindgen_test]
async fn frames_sent_while_offline_are_flushed_in_order_on_open() {
    let p = Probe::new("echo", r#","outboxLimit":2"#);
    let first = json(r#"{"type":"note","data":{"n":1}}"#);
    let second = json(r#"{"type":"note","data":{"n":2}}"#);
    assert!(!p.manager.send_message(first).unwrap(), "queued, not sent");
    assert!(!p.manager.send_message(second).unwrap());
    assert_eq!(p.manager.queued_frames(), 2);
    let third = json(r#"{"type":"note","data":{"n":3}}"#);
    assert!(!p.manager.send_message(third).unwrap());
    assert_eq!(p.error_codes(), ["outbox_full"]);
    p.connect().await.unwrap();
    until("two echoes", || p.echoes().len() == 2).await;
    assert_eq!(path(&p.echoes()[0], "data.data.n"), "1");
    assert_eq!(path(&p.echoes()[1], "data.data.n"), "2");
    assert_eq!(p.manager.queued_frames(), 0);
    assert!(p
        .manager
        .send_message(json(r#"{"type":"note","data":{"n":4}}"#))
        .unwrap());
    until("third echo", || p.echoes().len() == 3).await;
    p.manager.disconnect();
}

#[wasm_bindgen_test]
async fn send_message_refuses_frames_without_a_type() {
    let p = Probe::new("echo", "");
    for bad in [json(r#"{"data":1}"#), JsValue::from(3), JsValue::NULL] {
        let error = p.manager.send_message(bad).expect_err("refused");
        assert!(error.is_instance_of::<js_sys::TypeError>());
    }
    let cyclic = Object::new();
    Reflect::set(&cyclic, &"type".into(), &"x".into()).unwrap();
    Reflect::set(&cyclic, &"self".into(), &cyclic).unwrap();
    assert!(p.manager.send_message(cyclic.into()).is_err());
    assert_eq!(p.manager.queued_frames(), 0);
}

#[wasm_bindgen_test]
async fn send_chat_builds_the_chat_message_frame() {
    let p = Probe::new("echo", "");
    p.connect().await.unwrap();
    // `sendChat` returns the id as a JS string.
    let id: String = p
        .manager
        .send_chat("hi there".into(), Some("c1".into()))
        .unwrap()
        .as_string()
        .unwrap();
    let other: String = p
        .manager
        .send_chat("again".into(), None)
        .unwrap()
        .as_string()
        .unwrap();
    assert_ne!(id, other);
    let shape = js_sys::RegExp::new("^c-[0-9a-z]+-[0-9a-z]+-[0-9a-z]+$", "");
    for id in [&id, &other] {
        assert!(shape.test(id), "{id:?}");
    }
    let error = p
        .manager
        .send_chat(JsValue::from(5), None)
        .expect_err("not a string");
    assert!(error.is_instance_of::<js_sys::TypeError>());
    until("echoes", || p.echoes().len() == 2).await;
    let echo = &p.echoes()[0];
    assert_eq!(path(echo, "data.type"), "chat_message");
    assert_eq!(path(echo, "data.data.message"), "hi there");
    assert_eq!(path(echo, "data.data.conversation_id"), "c1");
    assert_eq!(path(echo, "data.data.client_message_id"), id);
    let second = Reflect::get(&p.echoes()[1], &"data".into()).unwrap();
    let second = Reflect::get(&second, &"data".into()).unwrap();
    assert!(Reflect::get(&second, &"conversation_id".into())
        .unwrap()
        .is_undefined());
    p.manager.disconnect();
}

// ---------------------------------------------------------------- tokens

#[wasm_bindgen_test]
async fn a_token_function_is_called_before_every_connect() {
    let calls = Rc::new(Cell::new(0));
    let counter = calls.clone();
    let token_fn = Closure::<dyn FnMut() -> JsValue>::new(move || {
        counter.set(counter.get() + 1);
        let token = JsValue::from_str(&format!("token-{}", counter.get()));
        Promise::resolve(&token).into()
    });
    let p = probe(&unique("echo"), token_fn.as_ref().clone(), options(""));
    p.connect().await.unwrap();
    p.script(r#"{"action":"drop"}"#);
    until("second connection", || p.hellos().len() == 2).await;
    assert_eq!(path(&p.hellos()[0], "data.token"), "token-1");
    assert_eq!(path(&p.hellos()[1], "data.token"), "token-2");
    assert_eq!(calls.get(), 2);
    p.manager.disconnect();
}

#[wasm_bindgen_test]
async fn a_failing_token_function_reports_and_retries() {
    let calls = Rc::new(Cell::new(0));
    let counter = calls.clone();
    let token_fn = Closure::<dyn FnMut() -> JsValue>::new(move || {
        counter.set(counter.get() + 1);
        if counter.get() == 1 {
            Promise::reject(&"no token yet".into()).into()
        } else {
            JsValue::from_str("fresh")
        }
    });
    let p = probe(&unique("echo"), token_fn.as_ref().clone(), options(""));
    p.connect().await.expect("the second token works");
    assert_eq!(p.error_codes(), ["token_failed"]);
    until("hello", || p.hellos().len() == 1).await;
    assert_eq!(path(&p.hellos()[0], "data.token"), "fresh");
    p.manager.disconnect();
}

// ---------------------------------------------------------------- page life

#[wasm_bindgen_test]
async fn going_online_reconnects_at_once() {
    let p = Probe::new("echo", r#","baseDelayMs":60000,"maxDelayMs":60000"#);
    p.connect().await.unwrap();
    p.script(r#"{"action":"drop"}"#);
    until("reconnecting", || p.state() == "reconnecting").await;
    assert!(p.manager.reconnect_delay_ms().as_f64().unwrap() > 50_000.0);
    dispatch_event(&web_sys::Event::new("online").unwrap());
    until("reconnected without waiting a minute", || {
        p.hellos().len() == 2
    })
    .await;
    assert_eq!(p.state(), "open");
    p.manager.disconnect();
}

#[wasm_bindgen_test]
async fn going_offline_probes_the_socket() {
    let p = probe(
        &unique("silent"),
        "t".into(),
        options(r#","heartbeatIntervalMs":600000,"heartbeatTimeoutMs":40"#),
    );
    p.connect().await.unwrap();
    until("hello", || p.hellos().len() == 1).await;
    dispatch_event(&web_sys::Event::new("offline").unwrap());
    until("the unanswered probe replaces the socket", || {
        p.hellos().len() >= 2
    })
    .await;
    p.manager.disconnect();
}

// ---------------------------------------------------------------- hostile input

#[wasm_bindgen_test]
async fn hostile_frames_get_bad_frame_or_pass_through_and_the_manager_keeps_running() {
    let p = Probe::new("echo", "");
    p.connect().await.unwrap();
    // Not JSON, not an object, a non-string type: bad_frame, each with the raw frame.
    // Fields of the wrong type pass through to their callback as sent; a numeric token is
    // not added to the reply's text, and a non-object `data` breaks nothing.
    p.script(
        r#"{"action":"send","frames":["{not json","[1,2]","{\"type\":5}",
            {"type":"stream_token","data":{"message_id":"m1","token":42,"offset":1}},
            {"type":"stream_token","data":{"message_id":"m1","token":"ok","offset":"2"}},
            {"type":"stream_token","data":{"message_id":{"x":1},"token":"a"}},
            {"type":"stream_complete","data":{"message_id":"m1"}},
            {"type":"stream_complete","data":"nope"},
            {"type":"resumed","data":{"recovered":"yes","offset":-1}},
            {"type":"error","data":null},
            {"type":"stream_token","data":{"message_id":"m2","token":"x","offset":1e308}}]}"#,
    );
    until("the last frame", || p.of("onStreamToken").len() == 4).await;
    assert_eq!(
        p.error_codes()[..3],
        ["bad_frame", "bad_frame", "bad_frame"]
    );
    assert_eq!(path(&p.of("onError")[0], "data.raw"), "{not json");
    assert_eq!(p.of("onStreamComplete").len(), 2);
    assert_eq!(path(&p.of("onStreamComplete")[0], "data.content"), "ok");
    assert_eq!(p.of("onResumed").len(), 1);

    // A 10 MB frame is taken whole.
    p.script(r#"{"action":"big","bytes":10000000}"#);
    until("the big reply", || p.of("onStreamComplete").len() == 3).await;
    let big = path(&p.of("onStreamComplete")[2], "data.content");
    assert_eq!(big.len(), 10_000_000);

    // 10,000 frames at once: every one dispatched, in order, none twice.
    p.script(r#"{"action":"burst","count":10000}"#);
    until("the burst", || p.of("onStreamComplete").len() == 4).await;
    let burst: Vec<JsValue> = p
        .of("onStreamToken")
        .into_iter()
        .filter(|f| path(f, "data.message_id") == "burst")
        .collect();
    assert_eq!(burst.len(), 10_000);
    assert_eq!(path(&burst[9_999], "data.offset"), "10000");
    assert_eq!(
        path(&p.of("onStreamComplete")[3], "data.content"),
        "t".repeat(10_000)
    );

    // Still running: a frame sent now is echoed.
    p.manager
        .send_message(json(r#"{"type":"after","data":{}}"#))
        .unwrap();
    until("the echo", || !p.echoes().is_empty()).await;
    assert_eq!(p.state(), "open");
    p.manager.disconnect();
}

// ---------------------------------------------------------------- resume

/// The full reply of the test server's resumable sessions.
fn resumable_reply() -> String {
    (0..20).map(|i| format!("t{i} ")).collect()
}

#[wasm_bindgen_test]
async fn a_reply_survives_a_dropped_connection() {
    // The server drops the first connection after 5 tokens, keeps generating, and after the
    // resume sends two frames again that the client already applied.
    let p = Probe::new("resume-5", "");
    p.connect().await.unwrap();
    p.manager
        .send_chat("hello".into(), Some("conv-r".into()))
        .unwrap();
    until("the reply completes", || {
        !p.of("onStreamComplete").is_empty()
    })
    .await;
    let tokens: Vec<String> = p
        .of("onStreamToken")
        .iter()
        .map(|f| path(f, "data.token"))
        .collect();
    let offsets: Vec<String> = p
        .of("onStreamToken")
        .iter()
        .map(|f| path(f, "data.offset"))
        .collect();
    assert_eq!(
        tokens.concat(),
        resumable_reply(),
        "no token lost or repeated"
    );
    let expected: Vec<String> = (1..=20).map(|n| n.to_string()).collect();
    assert_eq!(offsets, expected, "offsets run without a gap or a repeat");
    let complete = p.of("onStreamComplete");
    assert_eq!(complete.len(), 1, "one terminal frame");
    assert_eq!(path(&complete[0], "data.content"), resumable_reply());
    assert!(p.states().contains(&"reconnecting".to_string()));
    let resumed = p.of("onResumed");
    assert_eq!(resumed.len(), 1, "one resume, by message id");
    assert_eq!(path(&resumed[0], "data.recovered"), "true");
    assert_eq!(path(&resumed[0], "data.offset"), "5");
    assert!(p.error_codes().is_empty(), "{:?}", p.error_codes());
    p.manager.disconnect();
}

#[wasm_bindgen_test]
async fn a_reply_the_relay_lost_ends_with_stream_lost_and_what_was_received() {
    let p = Probe::new("lost-5", "");
    p.connect().await.unwrap();
    p.manager.send_chat("hello".into(), None).unwrap();
    until("the loss is reported", || !p.error_codes().is_empty()).await;
    sleep(50).await;
    assert_eq!(p.error_codes(), ["stream_lost"], "reported once");
    let error = &p.of("onError")[0];
    assert_eq!(path(error, "data.content"), "t0 t1 t2 t3 t4 ");
    assert!(path(error, "data.client_message_id").starts_with("c-"));
    assert!(p.of("onStreamComplete").is_empty());
    p.manager.disconnect();
}

#[wasm_bindgen_test]
async fn an_expired_reply_ends_with_the_relays_stream_expired() {
    let p = Probe::new("expired-3", "");
    p.connect().await.unwrap();
    p.manager.send_chat("hello".into(), None).unwrap();
    until("the loss is reported", || !p.error_codes().is_empty()).await;
    sleep(150).await;
    assert_eq!(
        p.error_codes(),
        ["stream_expired"],
        "one error, the relay's"
    );
    assert_eq!(path(&p.of("onError")[0], "data.content"), "t0 t1 t2 ");
    p.manager.disconnect();
}

// ---------------------------------------------------------------- resources

#[wasm_bindgen_test]
async fn connect_disconnect_cycles_release_every_socket_and_closure() {
    install_leak_probe();
    let (listeners, sockets) = (live_listeners(), live_sockets());
    let p = Probe::new("echo", "");
    for cycle in 0..200 {
        p.connect()
            .await
            .unwrap_or_else(|e| panic!("cycle {cycle}: {e:?}"));
        assert_eq!(live_sockets(), sockets + 1);
        // open, message, close on the socket; online, offline, visibilitychange on the page.
        assert_eq!(live_listeners(), listeners + 6);
        p.manager.disconnect();
        assert_eq!(live_sockets(), sockets, "cycle {cycle} released its socket");
        assert_eq!(
            live_listeners(),
            listeners,
            "cycle {cycle} removed its listeners"
        );
    }
    assert_eq!(p.states().len(), 600);
    // Freeing a connected manager releases its socket, listeners and timers too.
    let timers = pending_timers();
    let q = Probe::new("echo", "");
    q.connect().await.unwrap();
    assert_eq!(live_sockets(), sockets + 1);
    assert_eq!(pending_timers(), timers + 1, "the heartbeat's timer");
    drop(q);
    assert_eq!(live_sockets(), sockets);
    assert_eq!(live_listeners(), listeners, "the freed manager's listeners");
    assert_eq!(pending_timers(), timers, "the freed manager's timer");
    // Many managers, each connected and freed: nothing of theirs stays behind.
    for cycle in 0..50 {
        let r = Probe::new("echo", "");
        r.connect()
            .await
            .unwrap_or_else(|e| panic!("manager {cycle}: {e:?}"));
        drop(r);
    }
    assert_eq!(live_listeners(), listeners);
    assert_eq!(live_sockets(), sockets);
    assert_eq!(pending_timers(), timers);
}
