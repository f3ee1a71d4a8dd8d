//! Network and page-visibility events that should cut a reconnect delay short.
//!
//! The listeners are removed in `Drop`, like gloo's `EventListener`.

use wasm_bindgen::prelude::*;

use crate::js::{get_plain, global, set_listeners, EventTarget};

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

/// A manager's listeners on the global window and document, where there are any
/// (workers have no document; Node has neither).
pub struct PageLife {
    window: Option<EventTarget>,
    document: Option<EventTarget>,
    listener: JsValue,
}

impl PageLife {
    /// Adds `listener` (a JS function) for the page-life events until dropped.
    pub fn listen(listener: &JsValue) -> PageLife {
        let global = global();
        let document = get_plain(&global, &JsValue::from_str("document"));
        let page = PageLife {
            window: event_target(global),
            document: event_target(document),
            listener: listener.clone(),
        };
        page.each_listener(true);
        page
    }

    /// Adds (or removes) every listener.
    fn each_listener(&self, add: bool) {
        if let Some(window) = &self.window {
            set_listeners(window, &WINDOW_EVENTS, &self.listener, add);
        }
        if let Some(document) = &self.document {
            set_listeners(document, &[DOCUMENT_EVENT], &self.listener, add);
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
