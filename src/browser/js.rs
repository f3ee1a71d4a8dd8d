//! The JS bindings js-sys and web-sys have in a shape that is wrong for us (`JSON.parse` and
//! `Reflect.get`/`set` on plain objects, and `window`), and the error objects the manager
//! hands to JS.

use js_sys::{Error, Object, TypeError};
use wasm_bindgen::prelude::*;

use crate::core::error::ErrorCode;

#[wasm_bindgen]
extern "C" {
    /// `JSON.parse` of a JS string as it is: js-sys' `JSON::parse` takes a `&str`, which
    /// would copy every incoming frame into wasm memory and back out.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn parse_json(text: &JsValue) -> Result<JsValue, JsValue>;

    /// `Reflect.get` without a try/catch: js-sys' binding catches, and its wrapper makes a
    /// closure and an `arguments` object per call, six times per frame (7.5 -> 7.1 µs of
    /// main-thread script per frame, README "Benchmarks"). Only for objects whose properties
    /// cannot throw: see [`get`].
    #[wasm_bindgen(js_namespace = Reflect, js_name = get)]
    fn get_plain_field(target: &JsValue, key: &JsValue) -> JsValue;

    /// `Reflect.set` without a try/catch, like [`get_plain_field`]: only for objects the
    /// manager made or `JSON.parse` made, where setting cannot throw (see [`set`]).
    #[wasm_bindgen(js_namespace = Reflect, js_name = set)]
    fn set_plain_field(target: &JsValue, key: &JsValue, value: &JsValue) -> bool;

    /// `globalThis`, for its `window` (`None` in workers and Node): web-sys' `window()` finds
    /// it through js-sys' `global()`, which probes four globals and checks `instanceof Window`,
    /// and a `thread_local_v2` static would bring a lazy cell with its panic path (302 B gzip).
    #[wasm_bindgen(js_name = globalThis)]
    type Global;

    #[wasm_bindgen(static_method_of = Global, js_class = "globalThis", getter, js_name = window)]
    fn window_of_global() -> Option<web_sys::Window>;
}

/// The page's `window`, if there is one.
pub fn window() -> Option<web_sys::Window> {
    Global::window_of_global()
}

/// `target[key] = value` on an object the manager made (or `JSON.parse` made): plain and
/// extensible, so the assignment cannot fail.
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    set_plain_field(target, &key.into(), value);
}

/// `target[key]` of a plain object (what `JSON.parse` made, or the manager itself), or
/// `undefined` when `target` is not an object. Such objects have no getters, so the read
/// cannot throw; nor can the getters of the page's `location` and of a `URL`.
pub fn get(target: &JsValue, key: &JsValue) -> JsValue {
    if target.is_object() {
        get_plain_field(target, key)
    } else {
        JsValue::UNDEFINED
    }
}

/// A `TypeError` with `message`.
pub fn type_error(message: &str) -> JsValue {
    TypeError::new(message).into()
}

/// The `{type: "error", data: {code, message, retryable, …}}` frame of one of the manager's
/// own errors, shaped like the relay's `error` frames; `details` go into `data` too (the
/// undecodable frame as `raw`, a lost reply's ids and `content`), those given as `None`
/// left out. (A fixed list with `None`s rather than a `Vec` of those present: 16 B gzip,
/// README "Size".)
pub fn error_frame(code: ErrorCode, details: &[(&str, Option<&JsValue>)]) -> JsValue {
    let frame = Object::new();
    let data = Object::new();
    set(&frame, "type", &chatwire_protocol::frame_type::ERROR.into());
    set(&data, "code", &code.code().into());
    set(&data, "message", &code.message().into());
    set(&data, "retryable", &code.retryable().into());
    for (key, value) in details {
        if let Some(value) = value {
            set(&data, key, value);
        }
    }
    set(&frame, "data", &data);
    frame.into()
}

/// An `Error` with a stable `code` property, for rejected promises.
pub fn coded_error(code: ErrorCode) -> JsValue {
    let error = Error::new(code.message());
    set(&error, "code", &code.code().into());
    error.into()
}
