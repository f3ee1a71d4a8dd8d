//! chatwire: a real-time chat transport for AI apps, compiled to WebAssembly.
//!
//! [`ChatWebSocketManager`] wraps the browser WebSocket for the chat protocol in
//! `PROTOCOL.md`: it reconnects with exponential backoff, keeps the connection alive with
//! ping/pong, queues frames while offline and dispatches server frames by `type` to JS
//! callbacks.
//!
//! The decisions (backoff, lifecycle, heartbeat, outbox, stream accumulation, options,
//! URLs) are plain Rust in their own modules and are tested natively with `cargo test`;
//! `manager`, `socket`, `page_life` and `callbacks` are the thin browser adapter.

pub mod accumulator;
pub mod backoff;
mod callbacks;
pub mod error;
pub mod frame;
pub mod heartbeat;
pub mod ids;
mod js;
mod manager;
pub mod options;
pub mod outbox;
mod page_life;
mod socket;
pub mod state;
mod typescript;
pub mod url;

pub use manager::ChatWebSocketManager;
#[doc(hidden)]
pub use socket::live_sockets;
