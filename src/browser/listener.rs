//! An event listener that removes itself, and frees its closure, when dropped: gloo-events'
//! `EventListener`, which the package cannot use because gloo-events needs std (README
//! "Size").

use alloc::boxed::Box;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use web_sys::{Event, EventTarget};

#[wasm_bindgen]
extern "C" {
    // Without web-sys' try/catch: adding or removing a function listener cannot throw, and
    // the catching glue cost 54 B gzip (README "Size").
    #[wasm_bindgen(extends = EventTarget)]
    type Target;

    #[wasm_bindgen(method, js_name = addEventListener)]
    fn add_listener(this: &Target, event_type: &str, listener: &Function);
    #[wasm_bindgen(method, js_name = removeEventListener)]
    fn remove_listener(this: &Target, event_type: &str, listener: &Function);
}

/// `callback` listening for `event_type` on `target` until dropped.
pub struct EventListener {
    target: EventTarget,
    event_type: &'static str,
    // `JsValue`, not `Event`: every closure the package makes has this one type, so
    // wasm-bindgen generates one invoke shim and one cast for them all.
    callback: Closure<dyn FnMut(JsValue)>,
}

impl EventListener {
    /// Adds `callback` as a listener for `event_type` on `target`.
    pub fn new(
        target: &EventTarget,
        event_type: &'static str,
        mut callback: impl FnMut(Event) + 'static,
    ) -> EventListener {
        let callback = Closure::<dyn FnMut(JsValue)>::wrap(Box::new(move |event: JsValue| {
            callback(event.unchecked_into())
        }));
        target
            .unchecked_ref::<Target>()
            .add_listener(event_type, callback.as_ref().unchecked_ref());
        EventListener {
            target: target.clone(),
            event_type,
            callback,
        }
    }
}

impl Drop for EventListener {
    fn drop(&mut self) {
        self.target
            .unchecked_ref::<Target>()
            .remove_listener(self.event_type, self.callback.as_ref().unchecked_ref());
    }
}
