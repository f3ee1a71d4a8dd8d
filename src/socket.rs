//! One browser WebSocket and its listeners, owned together.
//!
//! Dropping a [`Socket`] removes its listeners and closes it with 1000, so a replaced
//! socket never reaches the manager again (gloo's `EventListener` pattern).

use wasm_bindgen::prelude::*;

use crate::js::{set_listeners, WebSocket};
use crate::live;

/// The socket events the manager listens to (`error` is always followed by `close`).
const EVENTS: [&str; 3] = ["open", "message", "close"];

/// An open (or opening) WebSocket, listened to until dropped.
pub struct Socket {
    ws: WebSocket,
    listener: JsValue,
}

impl Socket {
    /// Opens a WebSocket to `url` (a JS string) with `listener` (a JS function) on its
    /// `open`, `message` and `close` events. Fails (with the browser's `SyntaxError`) on a
    /// bad URL.
    pub fn open(url: &JsValue, listener: &JsValue) -> Result<Socket, JsValue> {
        let ws = WebSocket::new(url)?;
        set_listeners(&ws, &EVENTS, listener, true);
        live::SOCKETS.up();
        Ok(Socket {
            ws,
            listener: listener.clone(),
        })
    }

    /// Sends a text frame given as a JS string.
    pub fn send(&self, text: &JsValue) -> Result<(), JsValue> {
        self.ws.send(text)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        set_listeners(&self.ws, &EVENTS, &self.listener, false);
        self.ws.close(1000);
        live::SOCKETS.down();
    }
}
