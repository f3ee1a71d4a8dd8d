//! Network and page-visibility events that should cut a reconnect delay short.
//!
//! The listeners are `EventListener`s (gloo's pattern), removed when [`PageLife`] is dropped.

use wasm_bindgen::prelude::*;

use super::connection;
use super::listener::EventListener;
use super::shared::WeakShared;

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

/// A manager's listeners on the window, where there is one (workers and Node have none).
pub struct PageLife {
    _listeners: Option<[EventListener; 3]>,
}

impl PageLife {
    /// Listens for page-life events for the manager behind `manager` until dropped.
    pub fn listen(manager: &WeakShared) -> PageLife {
        let on = |window: &web_sys::Window, event_type: &'static str, event: PageEvent| {
            let manager = manager.clone();
            EventListener::new(window, event_type, move |_| {
                // `visibilitychange` also fires when the page is hidden: only becoming
                // visible counts.
                if event == PageEvent::Visible && !page_is_visible() {
                    return;
                }
                if let Some(shared) = manager.upgrade() {
                    connection::on_page_event(&shared, event);
                }
            })
        };
        // `visibilitychange` is fired at the document and bubbles to the window (in every
        // browser that runs this wasm: Safari since 14, reference types need 15), so all three
        // listen there, in one array, instead of a `Vec` grown by a listener on the document
        // (95 B gzip, README "Size").
        PageLife {
            _listeners: super::js::window().map(|window| {
                [
                    on(&window, "online", PageEvent::Online),
                    on(&window, "offline", PageEvent::Offline),
                    on(&window, "visibilitychange", PageEvent::Visible),
                ]
            }),
        }
    }
}

#[wasm_bindgen]
extern "C" {
    /// The page's `document`, read only from a `visibilitychange` listener on the page's
    /// window, so there is one (read before anything of the manager is held).
    #[wasm_bindgen(js_name = document)]
    type PageDocument;

    /// `document.hidden`, the one field of the document we read: one import, where web-sys'
    /// `window.document` and `Document.hidden` were two, and the `Document` type (92 B gzip,
    /// README "Size").
    #[wasm_bindgen(static_method_of = PageDocument, js_class = "document", getter)]
    fn hidden() -> bool;
}

/// `!document.hidden`, which is `visibilityState == "visible"` (web-sys' `VisibilityState`
/// enum would bring its conversion and an unreachable-value panic).
fn page_is_visible() -> bool {
    !PageDocument::hidden()
}
