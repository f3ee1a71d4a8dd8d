//! One browser WebSocket and the closures it calls, owned together.
//!
//! Dropping a [`Socket`] detaches its handlers, closes it with 1000 and frees the
//! closures, so replacing the socket on reconnect never leaks (gloo's `EventListener`
//! pattern). Nothing here is `forget()`-ed.

use core::sync::atomic::{AtomicUsize, Ordering};

use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, WebSocket};

use crate::js::{get_plain, open_websocket, send_text, set_listeners};

/// Every closure the client hands to JS has this one type, so wasm-bindgen emits one
/// invoke shim for all of them (each distinct closure type costs its own glue).
pub type Handler = Closure<dyn FnMut(JsValue)>;

static LIVE_SOCKETS: AtomicUsize = AtomicUsize::new(0);

/// How many [`Socket`]s (each with its closures) exist right now, in every manager.
/// Tests use it to show that connect/disconnect cycles release everything.
pub fn live_sockets() -> usize {
    LIVE_SOCKETS.load(Ordering::Relaxed)
}

/// What happened on a socket.
pub enum SocketEvent {
    /// The socket opened.
    Open,
    /// A frame arrived (`event.data`: a string for text frames).
    Message(JsValue),
    /// The socket closed, or failed to open, with this close code.
    Close(u16),
}

/// An open (or opening) WebSocket whose one handler lives exactly as long as it does.
pub struct Socket {
    ws: WebSocket,
    handler: Handler,
}

/// The socket events the manager listens to (`error` is always followed by `close`).
const EVENTS: [&str; 3] = ["open", "message", "close"];

impl Socket {
    /// Opens a WebSocket to `url` (a JS string). Fails (with the browser's `SyntaxError`)
    /// on a bad URL.
    pub fn open(
        url: &JsValue,
        mut on_event: impl FnMut(SocketEvent) + 'static,
    ) -> Result<Socket, JsValue> {
        let ws = open_websocket(url)?;
        // One closure for open, message and close, told apart by what the event carries:
        // a message has `data` (the hot path, checked first), a close has a `code`.
        let handler = Handler::new(move |event: JsValue| {
            let data = event.unchecked_ref::<MessageEvent>().data();
            on_event(if !data.is_undefined() {
                SocketEvent::Message(data)
            } else {
                let code = get_plain(&event, &JsValue::from_str("code"));
                if code.is_undefined() {
                    SocketEvent::Open
                } else {
                    SocketEvent::Close(code.unchecked_into_f64() as u16)
                }
            });
        });
        set_listeners(&ws, &EVENTS, handler.as_ref(), true);
        LIVE_SOCKETS.fetch_add(1, Ordering::Relaxed);
        Ok(Socket { ws, handler })
    }

    /// Sends a text frame given as a JS string.
    pub fn send(&self, text: &JsValue) -> Result<(), JsValue> {
        send_text(&self.ws, text)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        set_listeners(&self.ws, &EVENTS, self.handler.as_ref(), false);
        let _ = self.ws.close_with_code(1000);
        LIVE_SOCKETS.fetch_sub(1, Ordering::Relaxed);
    }
}
