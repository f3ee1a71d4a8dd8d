//! Network and page-visibility events that should cut a reconnect delay short.
//!
//! The listeners are `EventListener`s (gloo's pattern), removed when [`PageLife`] is dropped.

use alloc::vec;
use alloc::vec::Vec;

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

/// A manager's listeners on the window and document, where there are any (workers and
/// Node have no window).
pub struct PageLife {
    _listeners: Vec<EventListener>,
}

impl PageLife {
    /// Listens for page-life events for the manager behind `manager` until dropped.
    pub fn listen(manager: &WeakShared) -> PageLife {
        let Some(window) = super::js::window() else {
            return PageLife {
                _listeners: Vec::new(),
            };
        };
        let on = |target: &web_sys::EventTarget, event_type: &'static str, event: PageEvent| {
            let manager = manager.clone();
            EventListener::new(target, event_type, move |_| {
                let Some(shared) = manager.upgrade() else {
                    return;
                };
                // `visibilitychange` also fires when the page is hidden: only becoming
                // visible counts.
                if event != PageEvent::Visible || page_is_visible() {
                    connection::on_page_event(&shared, event);
                }
            })
        };
        let mut listeners = vec![
            on(&window, "online", PageEvent::Online),
            on(&window, "offline", PageEvent::Offline),
        ];
        if let Some(document) = window.document() {
            listeners.push(on(&document, "visibilitychange", PageEvent::Visible));
        }
        PageLife {
            _listeners: listeners,
        }
    }
}

/// `!document.hidden`, which is `visibilityState == "visible"` (web-sys' `VisibilityState`
/// enum would bring its conversion and an unreachable-value panic).
fn page_is_visible() -> bool {
    super::js::window()
        .and_then(|window| window.document())
        .is_some_and(|document| !document.hidden())
}
