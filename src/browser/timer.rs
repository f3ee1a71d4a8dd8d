//! A one-shot timer that is cleared, and its closure freed, when dropped: gloo-timers'
//! `Timeout`, which the package cannot use because gloo-timers needs std (README "Size").

use alloc::boxed::Box;

use js_sys::Function;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    // The global functions, not web-sys' `Window` methods: they exist in every realm the
    // package runs in (pages, workers, Node).
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: i32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// A pending `setTimeout`; dropping it clears the timer and frees the callback.
pub struct Timeout {
    id: JsValue,
    // `FnMut(JsValue)` (called with nothing, so `undefined`): the package's one closure type.
    _callback: Closure<dyn FnMut(JsValue)>,
}

impl Timeout {
    /// Calls `callback` once after `ms` milliseconds (none if `ms` is negative or NaN).
    // `FnMut`, not `FnOnce` behind an `Option` taken on the call: `setTimeout` calls its
    // handler once, and the `Option` cost 27 B gzip (README "Size").
    pub fn new(ms: f64, mut callback: impl FnMut() + 'static) -> Timeout {
        let callback = Closure::<dyn FnMut(JsValue)>::wrap(Box::new(move |_: JsValue| callback()));
        // setTimeout's delay is a signed 32-bit number; larger delays would fire at once.
        // `as` saturates, so this is the one clamp (a second one in `connection::after`, to
        // `u32`, cost 33 B gzip).
        let ms = ms.max(0.0) as i32;
        Timeout {
            id: set_timeout(callback.as_ref().unchecked_ref(), ms),
            _callback: callback,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}
