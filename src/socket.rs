//! One browser WebSocket and the closures it calls, owned together.
//!
//! Dropping a [`Socket`] detaches its handlers, closes it with 1000 and frees the
//! closures, so replacing the socket on reconnect never leaks (gloo's `EventListener`
//! pattern). Nothing here is `forget()`-ed.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicUsize, Ordering};

use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// Every closure the client hands to JS has this one type, so wasm-bindgen emits one
/// invoke shim for all of them (each distinct closure type costs its own glue).
pub type Handler = Closure<dyn FnMut(JsValue)>;

static LIVE_SOCKETS: AtomicUsize = AtomicUsize::new(0);

/// How many [`Socket`]s (each with its closures) exist right now, in every manager.
/// Tests use it to show that connect/disconnect cycles release everything.
pub fn live_sockets() -> usize {
    LIVE_SOCKETS.load(Ordering::Relaxed)
}

/// What a socket reports back to its owner.
pub struct SocketHandlers {
    /// The socket opened.
    pub on_open: Box<dyn FnMut()>,
    /// A frame arrived (`event.data`: a string for text frames).
    pub on_message: Box<dyn FnMut(JsValue)>,
    /// The socket closed, or failed to open, with this close code.
    pub on_close: Box<dyn FnMut(u16)>,
}

/// An open (or opening) WebSocket whose handlers live exactly as long as it does.
pub struct Socket {
    ws: WebSocket,
    _on_open: Handler,
    _on_message: Handler,
    _on_close: Handler,
}

impl Socket {
    /// Opens a WebSocket to `url`. Fails (with the browser's `SyntaxError`) on a bad URL.
    pub fn open(url: &JsValue, handlers: SocketHandlers) -> Result<Socket, JsValue> {
        let ws = crate::js::open_websocket(url)?;
        let SocketHandlers {
            mut on_open,
            mut on_message,
            mut on_close,
        } = handlers;
        let open = Handler::new(move |_: JsValue| on_open());
        let message = Handler::new(move |event: JsValue| {
            on_message(event.unchecked_into::<MessageEvent>().data())
        });
        let close = Handler::new(move |event: JsValue| {
            on_close(event.unchecked_into::<CloseEvent>().code())
        });
        ws.set_onopen(Some(open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(close.as_ref().unchecked_ref()));
        LIVE_SOCKETS.fetch_add(1, Ordering::Relaxed);
        Ok(Socket {
            ws,
            _on_open: open,
            _on_message: message,
            _on_close: close,
        })
    }

    /// Sends a text frame given as a JS string.
    pub fn send(&self, text: &JsValue) -> Result<(), JsValue> {
        crate::js::send_text(&self.ws, text)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close_with_code(1000);
        LIVE_SOCKETS.fetch_sub(1, Ordering::Relaxed);
    }
}
