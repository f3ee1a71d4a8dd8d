//! One-shot timers that are cancelled when dropped (gloo-timers' `Timeout`, without std).

use wasm_bindgen::prelude::*;

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
    _callback: Closure<dyn FnMut()>,
}

impl Timeout {
    /// Calls `callback` once after `ms` milliseconds (capped at setTimeout's maximum).
    pub fn new(ms: f64, callback: impl FnOnce() + 'static) -> Timeout {
        let callback = Closure::once(callback);
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
