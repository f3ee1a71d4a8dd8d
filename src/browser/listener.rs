//! An event listener that removes itself, and frees its closure, when dropped: gloo-events'
//! `EventListener`, which the package cannot use because gloo-events needs std (README
//! "Size").

use alloc::boxed::Box;

use wasm_bindgen::prelude::*;
use web_sys::{Event, EventTarget};

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
        // Cannot throw for a function listener.
        let _ =
            target.add_event_listener_with_callback(event_type, callback.as_ref().unchecked_ref());
        EventListener {
            target: target.clone(),
            event_type,
            callback,
        }
    }
}

impl Drop for EventListener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback(
            self.event_type,
            self.callback.as_ref().unchecked_ref(),
        );
    }
}
