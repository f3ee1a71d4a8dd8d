//! The manager's one JS closure, and what reaches it.
//!
//! Every socket event, page-life event, timer and `new Promise` executor call of a manager
//! goes through a single closure the manager owns (one closure instead of one per socket,
//! timer and listener: each costs wasm and glue). [`Incoming::classify`] tells the calls
//! apart by their shape. Listeners are removed and timers cleared by their owners
//! (`Socket`, `PageLife`, `Timeout`) when dropped; the closure itself is freed with the
//! manager. Nothing is `forget()`-ed.

use wasm_bindgen::prelude::*;

use crate::js::{get_plain, global, Function, MessageEvent};
use crate::live;
use crate::page_life::PageEvent;

/// Every closure the client hands to JS has this one type, so wasm-bindgen emits one
/// invoke shim for all of them (each distinct closure type costs its own glue).
pub type Handler = Closure<dyn FnMut(JsValue)>;

/// A manager's one closure, counted in `live::LISTENERS` until dropped.
pub struct Listener(Handler);

impl Listener {
    /// Wraps `on_call` in the JS function the manager hands out.
    pub fn new(on_call: impl FnMut(JsValue) + 'static) -> Listener {
        live::LISTENERS.up();
        Listener(Handler::new(on_call))
    }

    /// The JS function.
    pub fn function(&self) -> &JsValue {
        self.0.as_ref()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        live::LISTENERS.down();
    }
}

/// One call of the manager's closure.
pub enum Incoming {
    /// A timer fired (`setTimeout` calls its callback without arguments).
    Tick,
    /// A socket frame arrived (`event.data`: a string for text frames).
    Frame(JsValue),
    /// The socket opened.
    Open,
    /// The socket closed, or failed to open, with this close code.
    Close(u16),
    /// The window or document reported a page-life change.
    Page(PageEvent),
    /// `new Promise` called the closure as its executor: this is the promise's `resolve`.
    Resolve(Function),
    /// Anything else (the page became hidden, say).
    Ignored,
}

impl Incoming {
    /// Tells a call apart by its argument: messages (the hot path) are checked first.
    pub fn classify(value: JsValue) -> Incoming {
        if value.is_undefined() {
            return Incoming::Tick;
        }
        let data = value.unchecked_ref::<MessageEvent>().data();
        if !data.is_undefined() {
            return Incoming::Frame(data);
        }
        if value.is_function() {
            return Incoming::Resolve(value.unchecked_into());
        }
        let name = get_plain(&value, &JsValue::from_str("type"));
        if name == "open" {
            Incoming::Open
        } else if name == "close" {
            let code = get_plain(&value, &JsValue::from_str("code"));
            Incoming::Close(code.unchecked_into_f64() as u16)
        } else if name == "online" {
            Incoming::Page(PageEvent::Online)
        } else if name == "offline" {
            Incoming::Page(PageEvent::Offline)
        } else if page_is_visible() {
            Incoming::Page(PageEvent::Visible)
        } else {
            Incoming::Ignored
        }
    }
}

/// `document.visibilityState == "visible"` (the only other event is `visibilitychange`).
fn page_is_visible() -> bool {
    let document = get_plain(&global(), &JsValue::from_str("document"));
    get_plain(&document, &JsValue::from_str("visibilityState")) == "visible"
}
