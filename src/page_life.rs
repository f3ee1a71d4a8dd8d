//! Network and page-visibility events that should cut a reconnect delay short.
//!
//! One closure serves every listener; the listeners are removed and the closure freed in
//! `Drop`, like gloo's `EventListener`.

use wasm_bindgen::prelude::*;
use web_sys::EventTarget;

use crate::js::{get_plain, global, set_listeners};
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

const WINDOW_EVENTS: [&str; 2] = ["online", "offline"];
const DOCUMENT_EVENT: &str = "visibilitychange";

/// The listeners of one manager, on the global window and document where there are any
/// (workers have no document; Node has neither).
pub struct PageLife {
    window: Option<EventTarget>,
    document: Option<EventTarget>,
    handler: Handler,
}

impl PageLife {
    /// Calls `on_event` for each [`PageEvent`] until dropped.
    pub fn listen(on_event: impl Fn(PageEvent) + 'static) -> PageLife {
        let global = global();
        let document = get_plain(&global, &JsValue::from_str("document"));
        let visibility = document.clone();
        let handler = Handler::new(move |event: JsValue| {
            let name = get_plain(&event, &JsValue::from_str("type"));
            let event = if name == "online" {
                PageEvent::Online
            } else if name == "offline" {
                PageEvent::Offline
            } else if get_plain(&visibility, &JsValue::from_str("visibilityState")) == "visible" {
                PageEvent::Visible
            } else {
                return;
            };
            on_event(event);
        });
        let page = PageLife {
            window: event_target(global),
            document: event_target(document),
            handler,
        };
        page.each_listener(true);
        page
    }

    /// Adds (or removes) every listener.
    fn each_listener(&self, add: bool) {
        let handler = self.handler.as_ref();
        if let Some(window) = &self.window {
            set_listeners(window, &WINDOW_EVENTS, handler, add);
        }
        if let Some(document) = &self.document {
            set_listeners(document, &[DOCUMENT_EVENT], handler, add);
        }
    }
}

/// `value` as an `EventTarget` if it has `addEventListener` (Node's global has not).
fn event_target(value: JsValue) -> Option<EventTarget> {
    let listens = get_plain(&value, &JsValue::from_str("addEventListener")).is_function();
    listens.then(|| value.unchecked_into())
}

impl Drop for PageLife {
    fn drop(&mut self) {
        self.each_listener(false);
    }
}
