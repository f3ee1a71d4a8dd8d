//! Network and page-visibility events that should cut a reconnect delay short.
//!
//! The listeners are owned here and removed in `Drop`, like gloo's `EventListener`.

use alloc::vec::Vec;

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use web_sys::EventTarget;

use crate::socket::Handler;

/// A page-life event the manager reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageEvent {
    /// `online` on the window: the network is back.
    Online,
    /// `offline` on the window: the socket may be dead without knowing it.
    Offline,
    /// `visibilitychange` to visible: the user is looking again.
    Visible,
}

struct Listener {
    target: EventTarget,
    name: &'static str,
    closure: Handler,
}

/// The listeners of one manager; empty where there is no window (workers, Node).
pub struct PageLife {
    _listeners: Vec<Listener>,
}

impl PageLife {
    /// Listens for [`PageEvent`]s on the global window and document, if there are any.
    pub fn listen(on_event: impl Fn(PageEvent) + Clone + 'static) -> PageLife {
        let global = crate::js::global();
        let mut listeners = Vec::new();
        let window: Option<EventTarget> = global.dyn_ref::<EventTarget>().cloned();
        let document = crate::js::get(&global, &JsValue::from_str("document"));
        if let Some(window) = window {
            for (name, event) in [
                ("online", PageEvent::Online),
                ("offline", PageEvent::Offline),
            ] {
                let on_event = on_event.clone();
                listeners.push(Listener::add(&window, name, move || on_event(event)));
            }
        }
        if let Some(document) = document.dyn_ref::<EventTarget>() {
            let doc = document.clone();
            listeners.push(Listener::add(document, "visibilitychange", move || {
                let state = Reflect::get(&doc, &JsValue::from_str("visibilityState"));
                if state.ok().and_then(|s| s.as_string()).as_deref() == Some("visible") {
                    on_event(PageEvent::Visible);
                }
            }));
        }
        PageLife {
            _listeners: listeners,
        }
    }
}

impl Listener {
    fn add(target: &EventTarget, name: &'static str, handler: impl FnMut() + 'static) -> Listener {
        let mut handler = handler;
        let closure = Handler::new(move |_: JsValue| handler());
        let _ = target.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
        Listener {
            target: target.clone(),
            name,
            closure,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.name, self.closure.as_ref().unchecked_ref());
    }
}
