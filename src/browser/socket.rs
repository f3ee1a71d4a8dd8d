//! One browser WebSocket and its listeners, owned together.
//!
//! Each listener is an `EventListener` (gloo's pattern), which removes itself and frees its closure when
//! dropped; dropping a [`Socket`] therefore detaches it from the manager and closes it with
//! 1000, so a replaced socket never reaches the manager again.

use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use super::connection;
use super::dispatch;
use super::listener::EventListener;
use super::shared::{Shared, WeakShared};

/// An open (or opening) WebSocket, listened to until dropped.
pub struct Socket {
    ws: WebSocket,
    // Held for their `Drop`: each removes its listener (`error` is always followed by
    // `close`, so it needs none).
    _listeners: [EventListener; 3],
}

impl Socket {
    /// Opens a WebSocket to `url` whose events go to the manager behind `manager`. Fails
    /// (with the browser's `SyntaxError`) on a URL the browser refuses.
    pub fn open(url: &str, manager: &WeakShared) -> Result<Socket, JsValue> {
        let ws = WebSocket::new(url)?;
        let on = |event_type: &'static str, handle: fn(&Shared, web_sys::Event)| {
            let manager = manager.clone();
            EventListener::new(&ws, event_type, move |event| {
                if let Some(shared) = manager.upgrade() {
                    handle(&shared, event);
                }
            })
        };
        let listeners = [
            on("open", |shared, _| connection::on_open(shared)),
            // Only `MessageEvent`s are dispatched as `message` on a WebSocket.
            on("message", |shared, event| {
                dispatch::on_message(shared, event.unchecked_ref::<MessageEvent>().data())
            }),
            on("close", |shared, event| {
                connection::on_lost(shared, event.unchecked_ref::<CloseEvent>().code())
            }),
        ];
        Ok(Socket {
            ws,
            _listeners: listeners,
        })
    }

    /// Sends a text frame; fails unless the socket is open.
    pub fn send(&self, text: &str) -> Result<(), JsValue> {
        self.ws.send_with_str(text)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // The listeners are removed right after this (field drop), before the close event
        // can be dispatched.
        let _ = self.ws.close_with_code(1000);
    }
}
