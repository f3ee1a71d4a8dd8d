//! One browser WebSocket and its listeners, owned together.
//!
//! Each listener is an `EventListener` (gloo's pattern), which removes itself and frees its closure when
//! dropped; dropping a [`Socket`] therefore detaches it from the manager and closes it, so a
//! replaced socket never reaches the manager again.
//!
//! The close code says what the relay should do with the replies the socket was receiving:
//! 1000 ("I am gone") stops them, any other code keeps them running for a `resume`.

use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use chatwire_protocol::close;

use super::connection;
use super::dispatch;
use super::listener::EventListener;
use super::shared::{Shared, WeakShared};

/// The close code of a socket the manager replaces: an application code (4000–4999) that
/// is not 1000, so the relay keeps the replies in flight for a `resume`.
const RECONNECTING: u16 = 4000;

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

    /// Closes with 1000 (`disconnect()`, `free()`): the relay stops this socket's replies.
    pub fn close_for_good(&self) {
        let _ = self.ws.close_with_code(close::NORMAL);
    }

    /// Sends a text frame; fails unless the socket is open.
    pub fn send(&self, text: &str) -> Result<(), JsValue> {
        self.ws.send_with_str(text)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // Replaced (lost, or declared dead by the heartbeat): the manager will resume its
        // replies on the next socket, so not 1000 (a no-op if `close_for_good` ran). The
        // listeners are removed right after this (field drop), before any close event.
        let _ = self.ws.close_with_code(RECONNECTING);
    }
}
