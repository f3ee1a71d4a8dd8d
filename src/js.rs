//! Small browser bindings that web-sys and js-sys don't offer in the shape we need:
//! they pass JS strings through as `JsValue`s instead of copying them into wasm memory.
//!
//! No string ever travels from JS into wasm: session ids, tokens, URLs, option names and
//! frames stay JS strings, composed with [`concat`]. That keeps wasm-bindgen's string
//! encoder, the allocations and the copying out of the package.

use js_sys::{Error, Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{EventTarget, WebSocket};

use crate::error::ErrorCode;

#[wasm_bindgen]
extern "C" {
    /// `JSON.parse(text)` on a JS string, without copying it into wasm.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn parse_json(text: &JsValue) -> Result<JsValue, JsValue>;

    /// `Reflect.get` without the try/catch wrapper wasm-bindgen puts around `catch` imports:
    /// only for a `target` known to be an object whose properties cannot throw (see
    /// [`get_plain`]); a non-object `target` makes `Reflect.get` throw.
    #[wasm_bindgen(js_namespace = Reflect, js_name = get)]
    pub fn get_object_field(target: &JsValue, key: &JsValue) -> JsValue;

    /// `Reflect.set` without the try/catch wrapper, for objects where it cannot throw (see
    /// [`set`]).
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    pub fn set_object_field(target: &JsValue, key: &JsValue, value: &JsValue) -> bool;

    /// A browser `WebSocket`, seen only for `new WebSocket(url)` and `send(text)` with JS
    /// strings.
    #[wasm_bindgen(js_name = WebSocket)]
    type TextSocket;

    #[wasm_bindgen(constructor, catch, js_class = WebSocket)]
    fn new(url: &JsValue) -> Result<TextSocket, JsValue>;

    #[wasm_bindgen(method, catch, js_name = send)]
    fn send(this: &TextSocket, text: &JsValue) -> Result<(), JsValue>;

    /// `ws.close(code)`; cannot throw for 1000.
    #[wasm_bindgen(method, js_name = close)]
    fn close(this: &TextSocket, code: u16);

    /// An `EventTarget`, seen only for adding and removing listeners (which cannot throw
    /// with a function listener).
    #[wasm_bindgen(js_name = EventTarget)]
    type Listened;

    #[wasm_bindgen(method, js_name = addEventListener)]
    fn add_listener(this: &Listened, name: &str, listener: &JsValue);

    #[wasm_bindgen(method, js_name = removeEventListener)]
    fn remove_listener(this: &Listened, name: &str, listener: &JsValue);

    /// A JS number, seen only for `toString(radix)` (cannot throw for 2 to 36).
    #[wasm_bindgen(js_name = Number)]
    type Numeral;

    #[wasm_bindgen(method, js_name = toString)]
    fn to_string_radix(this: &Numeral, radix: u8) -> JsValue;

    /// The `Promise` class, seen only for `new Promise(executor)` with the executor as a
    /// plain JS function.
    #[wasm_bindgen(js_name = Promise)]
    type PromiseClass;

    #[wasm_bindgen(constructor, js_class = Promise)]
    fn new(executor: &JsValue) -> PromiseClass;

    /// A promise, seen only for `then`.
    pub type Settled;

    #[wasm_bindgen(method)]
    pub fn then(this: &Settled, on_fulfilled: &JsValue, on_rejected: &JsValue) -> Settled;

    /// `globalThis`: the window, or the worker's global scope.
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL_THIS: JsValue;

    /// `console.error(message, detail)`.
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    pub fn console_error(message: &JsValue, detail: &JsValue);

    /// `encodeURIComponent(text)`; throws a `URIError` on a lone surrogate.
    #[wasm_bindgen(js_name = encodeURIComponent, catch)]
    pub fn encode_uri_component(text: &JsValue) -> Result<JsValue, JsValue>;

    /// `new URL(text)`, the browser's URL parser; throws a `TypeError` on an invalid URL.
    #[wasm_bindgen(js_name = URL)]
    pub type Url;

    #[wasm_bindgen(constructor, catch, js_class = URL)]
    pub fn new(text: &JsValue) -> Result<Url, JsValue>;

    /// `TypeError`, made from a JS string.
    #[wasm_bindgen(js_name = TypeError)]
    type JsTypeError;

    #[wasm_bindgen(constructor, js_class = TypeError)]
    fn new(message: &JsValue) -> JsTypeError;
}

/// `new WebSocket(url)` with a JS string; throws a `SyntaxError` on a bad URL.
pub fn open_websocket(url: &JsValue) -> Result<WebSocket, JsValue> {
    TextSocket::new(url).map(JsCast::unchecked_into)
}

/// `ws.close(1000)`.
pub fn close_normally(ws: &WebSocket) {
    ws.unchecked_ref::<TextSocket>().close(1000);
}

/// `ws.send(text)` with a JS string, without copying it into wasm.
pub fn send_text(ws: &WebSocket, text: &JsValue) -> Result<(), JsValue> {
    ws.unchecked_ref::<TextSocket>().send(text)
}

/// `new Promise(executor)`.
pub fn new_promise(executor: &JsValue) -> js_sys::Promise {
    PromiseClass::new(executor).unchecked_into()
}

/// Calls `on_settled` once `value` (a promise, or any value) settles: with the fulfilled
/// value, or with `Object(reason)` when it rejects, which is never a string primitive.
/// Never calls it twice, and calls it even when `value` rejects or its `then` throws.
pub fn when_settled(value: &JsValue, on_settled: &JsValue) {
    let object = get_plain(&global(), &JsValue::from_str("Object"));
    let undefined = JsValue::UNDEFINED;
    js_sys::Promise::resolve(value)
        .unchecked_into::<Settled>()
        .then(&undefined, &object)
        .then(on_settled, &undefined);
}

/// Adds `listener` to `target` for each event in `names`, or removes it again.
pub fn set_listeners(target: &EventTarget, names: &[&str], listener: &JsValue, add: bool) {
    let target = target.unchecked_ref::<Listened>();
    for name in names {
        if add {
            target.add_listener(name, listener);
        } else {
            target.remove_listener(name, listener);
        }
    }
}

/// `globalThis` (one import, instead of js-sys' four-way fallback).
pub fn global() -> JsValue {
    GLOBAL_THIS.with(JsValue::clone)
}

/// `target[key]`, or `undefined` when `target` is not an object or the read throws: for
/// objects from the app (options, frames to send), which may have throwing getters.
pub fn get(target: &JsValue, key: &JsValue) -> JsValue {
    Reflect::get(target, key).unwrap_or(JsValue::UNDEFINED)
}

/// `target[key]`, or `undefined` when `target` is not an object, for objects whose reads
/// cannot throw: what `JSON.parse` makes, and the browser's own
/// `location`, `URL` and events. No exception handling on the JS side (the per-frame path).
pub fn get_plain(target: &JsValue, key: &JsValue) -> JsValue {
    if target.is_object() {
        get_object_field(target, key)
    } else {
        JsValue::UNDEFINED
    }
}

/// The JS string of `parts` joined, each a JS string or a Rust literal.
pub fn concat(parts: &[&dyn AsJs]) -> JsValue {
    let mut joined = js_sys::JsString::from(JsValue::from_str(""));
    for part in parts {
        joined = joined.concat(&part.as_js());
    }
    joined.into()
}

/// `value.toString(36)` for a whole number.
pub fn base36(value: f64) -> JsValue {
    JsValue::from_f64(value)
        .unchecked_into::<Numeral>()
        .to_string_radix(36)
}

/// A `TypeError` whose message is `parts` joined.
pub fn type_error(parts: &[&dyn AsJs]) -> JsValue {
    JsTypeError::new(&concat(parts)).into()
}

/// A piece of text for [`concat`]: a JS string, or a Rust literal copied out to JS.
pub trait AsJs {
    /// The piece as a JS value.
    fn as_js(&self) -> JsValue;
}

impl AsJs for JsValue {
    fn as_js(&self) -> JsValue {
        self.clone()
    }
}

impl AsJs for &str {
    fn as_js(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

/// `target[key] = value` on an object the client made itself (or `JSON.parse` made), which
/// is plain and extensible, so the assignment cannot throw.
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    set_object_field(target, &JsValue::from_str(key), value);
}

/// The `{type: "error", data: {code, message, retryable}}` frame the manager reports itself;
/// `raw`, when given, goes into `data.raw` (the frame that could not be decoded).
pub fn error_frame(code: ErrorCode, raw: Option<&JsValue>) -> Object {
    let data = Object::new();
    set(&data, "code", &JsValue::from_str(code.code()));
    set(&data, "message", &JsValue::from_str(code.message()));
    set(&data, "retryable", &JsValue::from_bool(code.retryable()));
    if let Some(raw) = raw {
        set(&data, "raw", raw);
    }
    let frame = Object::new();
    set(&frame, "type", &JsValue::from_str("error"));
    set(&frame, "data", &data);
    frame
}

/// An `Error` with a stable `code` property, for rejected promises.
pub fn coded_error(code: ErrorCode) -> Error {
    let error = Error::new(code.message());
    set(&error, "code", &JsValue::from_str(code.code()));
    error
}
