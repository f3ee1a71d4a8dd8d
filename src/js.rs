//! Small browser bindings that web-sys and js-sys don't offer in the shape we need:
//! they pass JS strings through as `JsValue`s instead of copying them into wasm memory.

use js_sys::{Error, Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::WebSocket;

use crate::error::ErrorCode;

#[wasm_bindgen]
extern "C" {
    /// `JSON.parse(text)` on a JS string, without copying it into wasm.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn parse_json(text: &JsValue) -> Result<JsValue, JsValue>;

    /// `Reflect.get` without the try/catch wrapper wasm-bindgen puts around `catch` imports:
    /// only for objects made by `JSON.parse` (plain data properties, nothing can throw).
    #[wasm_bindgen(js_namespace = Reflect, js_name = get)]
    fn get_parsed_unchecked(target: &JsValue, key: &JsValue) -> JsValue;

    /// A browser `WebSocket`, seen only for `send` with a JS string.
    #[wasm_bindgen(js_name = WebSocket)]
    type TextSocket;

    #[wasm_bindgen(method, catch, js_name = send)]
    fn send(this: &TextSocket, text: &JsValue) -> Result<(), JsValue>;

    /// The `Promise` class, seen only for `new Promise(executor)` with the executor as a
    /// plain JS function.
    #[wasm_bindgen(js_name = Promise)]
    type PromiseClass;

    #[wasm_bindgen(constructor, js_class = Promise)]
    fn new(executor: &JsValue) -> PromiseClass;

    /// A promise, seen only for `then` with one callback.
    pub type Settled;

    /// `Promise.allSettled(values)`: never rejects.
    #[wasm_bindgen(js_namespace = Promise, js_name = allSettled)]
    pub fn all_settled(values: &js_sys::Array) -> Settled;

    #[wasm_bindgen(method)]
    pub fn then(this: &Settled, on_settled: &JsValue) -> Settled;

    /// `globalThis`: the window, or the worker's global scope.
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL_THIS: JsValue;

    /// `console.error(message, detail)`.
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    pub fn console_error(message: &str, detail: &JsValue);
}

/// `ws.send(text)` with a JS string, without copying it into wasm.
pub fn send_text(ws: &WebSocket, text: &JsValue) -> Result<(), JsValue> {
    ws.unchecked_ref::<TextSocket>().send(text)
}

/// `new Promise(executor)`.
pub fn new_promise(executor: &JsValue) -> js_sys::Promise {
    PromiseClass::new(executor).unchecked_into()
}

/// `globalThis` (one import, instead of js-sys' four-way fallback).
pub fn global() -> JsValue {
    GLOBAL_THIS.with(JsValue::clone)
}

/// `target[key]`, or `undefined` when `target` is not an object.
pub fn get(target: &JsValue, key: &JsValue) -> JsValue {
    Reflect::get(target, key).unwrap_or(JsValue::UNDEFINED)
}

/// `target[key]` of a value made by `JSON.parse`, or `undefined` when it is not an object.
/// The per-frame fast path: no exception handling on the JS side.
pub fn get_parsed(target: &JsValue, key: &JsValue) -> JsValue {
    if target.is_object() {
        get_parsed_unchecked(target, key)
    } else {
        JsValue::UNDEFINED
    }
}

/// `target[key] = value`; a frozen or non-object target is left alone.
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
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
