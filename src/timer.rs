//! One-shot timers that are cancelled when dropped (gloo-timers' `Timeout`, without std).

use wasm_bindgen::prelude::*;

use crate::socket::Handler;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &JsValue, ms: i32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// A pending `setTimeout`; dropping it clears the timer and frees the closure.
pub struct Timeout {
    id: JsValue,
    _callback: Handler,
}

impl Timeout {
    /// Calls `callback` once after `ms` milliseconds (capped at setTimeout's maximum).
    pub fn new(ms: f64, mut callback: impl FnMut() + 'static) -> Timeout {
        let callback = Handler::new(move |_: JsValue| callback());
        let ms = ms.clamp(0.0, i32::MAX as f64) as i32;
        let id = set_timeout(callback.as_ref(), ms);
        Timeout {
            id,
            _callback: callback,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}
