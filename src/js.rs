//! The browser and JS bindings the client uses, declared here rather than taken from
//! js-sys/web-sys: each binding is shaped for how it is used (JS strings stay `JsValue`s,
//! calls that cannot throw skip the try/catch wrapper), and the package links nothing else
//! of those crates.
//!
//! No string ever travels from JS into wasm: session ids, tokens, URLs, option names and
//! frames stay JS strings, composed with [`concat`]. That keeps wasm-bindgen's string
//! encoder, the allocations and the copying out of the package.

use wasm_bindgen::prelude::*;

use crate::error::ErrorCode;

// Language built-ins.
#[wasm_bindgen]
extern "C" {
    /// A JS function.
    #[wasm_bindgen(js_name = Function, is_type_of = JsValue::is_function)]
    #[derive(Clone)]
    pub type Function;

    /// `function.call(this_arg, arg)`; throws what the function throws.
    #[wasm_bindgen(method, catch, js_name = call)]
    pub fn call1(this: &Function, this_arg: &JsValue, arg: &JsValue) -> Result<JsValue, JsValue>;

    /// A JS array, seen only for reading.
    #[wasm_bindgen(js_name = Array)]
    pub type Array;

    #[wasm_bindgen(method, getter)]
    pub fn length(this: &Array) -> u32;

    #[wasm_bindgen(method, structural, indexing_getter)]
    pub fn get(this: &Array, index: u32) -> JsValue;

    /// `Array.isArray(value)`.
    #[wasm_bindgen(static_method_of = Array, js_class = Array, js_name = isArray)]
    pub fn is_array(value: &JsValue) -> bool;

    /// A plain object, `new Object()`.
    #[wasm_bindgen(js_name = Object)]
    pub type Object;

    #[wasm_bindgen(constructor, js_class = Object)]
    pub fn new() -> Object;

    /// `Object.keys(object)`.
    #[wasm_bindgen(static_method_of = Object, js_class = Object)]
    pub fn keys(object: &JsValue) -> Array;

    /// A JS string, seen only for `concat`, `endsWith` and `includes`.
    #[wasm_bindgen(js_name = String, typescript_type = "string")]
    pub type JsString;

    #[wasm_bindgen(method)]
    pub fn concat(this: &JsString, other: &JsValue) -> JsString;

    #[wasm_bindgen(method, js_name = endsWith)]
    pub fn ends_with(this: &JsString, search: &str) -> bool;

    #[wasm_bindgen(method)]
    pub fn includes(this: &JsString, search: &str) -> bool;

    /// A JS number, seen only for `toString(radix)` (cannot throw for 2 to 36).
    #[wasm_bindgen(js_name = Number)]
    type Numeral;

    #[wasm_bindgen(method, js_name = toString)]
    fn to_string_radix(this: &Numeral, radix: u8) -> JsValue;

    /// `Date.now()`.
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    pub fn date_now() -> f64;

    /// `Math.random()`.
    #[wasm_bindgen(js_namespace = Math, js_name = random)]
    pub fn math_random() -> f64;

    /// `JSON.parse(text)` on a JS string, without copying it into wasm.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn parse_json(text: &JsValue) -> Result<JsValue, JsValue>;

    /// `JSON.stringify(value)`; throws on cycles and BigInts.
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    pub fn stringify(value: &JsValue) -> Result<JsValue, JsValue>;

    /// `Reflect.get(target, key)`, which throws when a getter throws (or `target` is not
    /// an object): see [`get`].
    #[wasm_bindgen(js_namespace = Reflect, js_name = get, catch)]
    fn reflect_get(target: &JsValue, key: &JsValue) -> Result<JsValue, JsValue>;

    /// `Reflect.get` without the try/catch wrapper wasm-bindgen puts around `catch` imports:
    /// only for a `target` known to be an object whose properties cannot throw (see
    /// [`get_plain`]); a non-object `target` makes `Reflect.get` throw.
    #[wasm_bindgen(js_namespace = Reflect, js_name = get)]
    pub fn get_object_field(target: &JsValue, key: &JsValue) -> JsValue;

    /// `Reflect.set` without the try/catch wrapper, for objects where it cannot throw (see
    /// [`set`]).
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    pub fn set_object_field(target: &JsValue, key: &JsValue, value: &JsValue) -> bool;

    /// A `Promise`, seen only for `new Promise(executor)` with the executor as a plain JS
    /// function, `Promise.resolve`, `Promise.reject` and `then`.
    #[wasm_bindgen(js_name = Promise)]
    pub type JsPromise;

    #[wasm_bindgen(constructor, js_class = Promise)]
    pub fn new(executor: &JsValue) -> JsPromise;

    #[wasm_bindgen(static_method_of = JsPromise, js_class = Promise)]
    pub fn resolve(value: &JsValue) -> JsPromise;

    #[wasm_bindgen(static_method_of = JsPromise, js_class = Promise)]
    pub fn reject(reason: &JsValue) -> JsPromise;

    #[wasm_bindgen(method)]
    fn then(this: &JsPromise, on_fulfilled: &JsValue, on_rejected: &JsValue) -> JsPromise;

    /// `Error`, made from a message.
    #[wasm_bindgen(js_name = Error)]
    type ErrorObject;

    #[wasm_bindgen(constructor, js_class = Error)]
    fn new(message: &str) -> ErrorObject;

    /// `TypeError`, made from a JS string.
    #[wasm_bindgen(js_name = TypeError)]
    type JsTypeError;

    #[wasm_bindgen(constructor, js_class = TypeError)]
    fn new(message: &JsValue) -> JsTypeError;

    /// `globalThis`: the window, or the worker's global scope.
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL_THIS: JsValue;

    /// `console.error(message, detail)`.
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    pub fn console_error(message: &JsValue, detail: &JsValue);

    /// `encodeURIComponent(text)`; throws a `URIError` on a lone surrogate.
    #[wasm_bindgen(js_name = encodeURIComponent, catch)]
    pub fn encode_uri_component(text: &JsValue) -> Result<JsValue, JsValue>;
}

// The browser.
#[wasm_bindgen]
extern "C" {
    /// A browser `WebSocket`, opened with and sent JS strings.
    #[wasm_bindgen(js_name = WebSocket, extends = EventTarget)]
    pub type WebSocket;

    /// `new WebSocket(url)`; throws a `SyntaxError` on a bad URL.
    #[wasm_bindgen(constructor, catch, js_class = WebSocket)]
    pub fn new(url: &JsValue) -> Result<WebSocket, JsValue>;

    /// `ws.send(text)`; throws unless the socket is open.
    #[wasm_bindgen(method, catch)]
    pub fn send(this: &WebSocket, text: &JsValue) -> Result<(), JsValue>;

    /// `ws.close(code)`; cannot throw for 1000.
    #[wasm_bindgen(method)]
    pub fn close(this: &WebSocket, code: u16);

    /// An `EventTarget`, seen only for adding and removing listeners (which cannot throw
    /// with a function listener).
    #[wasm_bindgen(js_name = EventTarget)]
    pub type EventTarget;

    #[wasm_bindgen(method, js_name = addEventListener)]
    fn add_listener(this: &EventTarget, name: &str, listener: &JsValue);

    #[wasm_bindgen(method, js_name = removeEventListener)]
    fn remove_listener(this: &EventTarget, name: &str, listener: &JsValue);

    /// A `MessageEvent`, seen only for `data` (any event: others have no `data`).
    #[wasm_bindgen(js_name = MessageEvent)]
    pub type MessageEvent;

    #[wasm_bindgen(method, structural, getter)]
    pub fn data(this: &MessageEvent) -> JsValue;

    /// `new URL(text)`, the browser's URL parser; throws a `TypeError` on an invalid URL.
    #[wasm_bindgen(js_name = URL)]
    pub type Url;

    #[wasm_bindgen(constructor, catch, js_class = URL)]
    pub fn new(text: &JsValue) -> Result<Url, JsValue>;
}

/// Calls `on_settled` once `value` (a promise, or any value) settles: with the fulfilled
/// value, or with `Object(reason)` when it rejects, which is never a string primitive.
/// Never calls it twice, and calls it even when `value` rejects or its `then` throws.
pub fn when_settled(value: &JsValue, on_settled: &JsValue) {
    let object = get_plain(&global(), &JsValue::from_str("Object"));
    let undefined = JsValue::UNDEFINED;
    JsPromise::resolve(value)
        .then(&undefined, &object)
        .then(on_settled, &undefined);
}

/// Adds `listener` to `target` for each event in `names`, or removes it again.
pub fn set_listeners(target: &EventTarget, names: &[&str], listener: &JsValue, add: bool) {
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
    reflect_get(target, key).unwrap_or(JsValue::UNDEFINED)
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
    let mut joined: JsString = JsValue::from_str("").unchecked_into();
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
pub fn coded_error(code: ErrorCode) -> JsValue {
    let error = ErrorObject::new(code.message());
    set(&error, "code", &JsValue::from_str(code.code()));
    error.into()
}
