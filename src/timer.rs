//! One-shot timers that are cancelled when dropped (gloo-timers' `Timeout`, without std).

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &JsValue, ms: i32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// A pending `setTimeout`; dropping it clears the timer.
pub struct Timeout {
    id: JsValue,
}

impl Timeout {
    /// Calls `callback` (a JS function) once after `ms` milliseconds, capped at
    /// setTimeout's maximum, with no arguments.
    pub fn new(ms: f64, callback: &JsValue) -> Timeout {
        let ms = ms.clamp(0.0, i32::MAX as f64) as i32;
        Timeout {
            id: set_timeout(callback, ms),
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}
