//! The client's decisions, as plain Rust: no wasm-bindgen, no web-sys, no I/O. `cargo test`
//! runs them natively; the browser adapter (`browser`) only wires events and timers to them.

pub mod backoff;
pub mod endpoint;
pub mod error;
pub mod frame;
pub mod generations;
pub mod heartbeat;
pub mod ids;
pub mod options;
pub mod outbox;
pub mod state;
pub mod text;
