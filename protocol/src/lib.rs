//! The chatwire wire protocol, in one place: the frames the browser client and the relay
//! exchange, the stable error codes carried by `error` frames, and the WebSocket close codes.
//!
//! `PROTOCOL.md` at the repository root is the prose version of this crate. Both sides depend
//! on it: the relay serialises [`ServerFrame`]s and decodes [`ClientFrame`]s (with
//! `serde_json`), and the wasm client's pure core takes the names, codes and rules from here.
//!
//! The crate is `no_std` (with `alloc`), has no I/O and no JSON library of its own, so it
//! builds for any target and costs the wasm package only what it uses. Fields that carry
//! arbitrary JSON (a `ping`'s data, upstream `usage`) are the type parameter `J`: the relay
//! uses `serde_json::Value` (or a reference to one).
//!
//! Every frame is one JSON text message `{"type": <snake_case name>, "data": {…}}`.

#![no_std]

extern crate alloc;

pub mod client;
pub mod close;
pub mod error;
pub mod frame_type;
pub mod ids;
pub mod server;

pub use client::{CancelRequest, ChatRequest, ClientFrame, Invalid, ResumeRequest, ResumeTarget};
pub use error::ErrorCode;
pub use ids::{valid_id, MAX_ID_LEN};
pub use server::{Role, ServerFrame};
