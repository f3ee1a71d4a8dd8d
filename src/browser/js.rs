//! The one JS binding js-sys has in a shape that is wrong for us, and the error objects the
//! manager hands to JS.

use js_sys::{Error, Object, Reflect, TypeError};
use wasm_bindgen::prelude::*;

use crate::core::error::ErrorCode;

#[wasm_bindgen]
extern "C" {
    /// `JSON.parse` of a JS string as it is: js-sys' `JSON::parse` takes a `&str`, which
    /// would copy every incoming frame into wasm memory and back out.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn parse_json(text: &JsValue) -> Result<JsValue, JsValue>;
}

/// `target[key] = value` on an object the manager made (or `JSON.parse` made): plain and
/// extensible, so the assignment cannot fail.
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &key.into(), value);
}

/// `target[key]`, or `undefined` when `target` is not an object (`Reflect.get` throws then,
/// and the throw is caught) or a getter throws.
pub fn get(target: &JsValue, key: &JsValue) -> JsValue {
    Reflect::get(target, key).unwrap_or(JsValue::UNDEFINED)
}

/// A `TypeError` with `message`.
pub fn type_error(message: &str) -> JsValue {
    TypeError::new(message).into()
}

/// The `{type: "error", data: {code, message, retryable}}` frame of one of the manager's own
/// errors, shaped like the relay's `error` frames; `raw`, when given, goes into `data.raw`
/// (the frame that could not be decoded).
pub fn error_frame(code: ErrorCode, raw: Option<&JsValue>) -> JsValue {
    let frame = Object::new();
    let data = Object::new();
    set(&frame, "type", &chatwire_protocol::frame_type::ERROR.into());
    set(&data, "code", &code.code().into());
    set(&data, "message", &code.message().into());
    set(&data, "retryable", &code.retryable().into());
    if let Some(raw) = raw {
        set(&data, "raw", raw);
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
