//! chatwire: a real-time chat transport for AI apps, compiled to WebAssembly.
//!
//! [`ChatWebSocketManager`] wraps the browser WebSocket for the chat protocol in
//! `PROTOCOL.md`: it reconnects with exponential backoff, keeps the connection alive with
//! ping/pong, queues frames while offline and dispatches server frames by `type` to JS
//! callbacks.
//!
//! The decisions (backoff, lifecycle, heartbeat, outbox, stream accumulation, options,
//! frame kinds, ids) are plain Rust in their own modules and are tested natively with
//! `cargo test`; `manager`, `incoming`, `socket`, `page_life`, `timer`, `callbacks`, `url`
//! and `js` are the thin browser adapter, tested in browsers (`tests/web.rs`).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod accumulator;
pub mod backoff;
mod callbacks;
pub mod error;
pub mod frame;
pub mod heartbeat;
pub mod ids;
mod incoming;
mod js;
mod live;
mod manager;
pub mod options;
pub mod outbox;
mod page_life;
mod socket;
pub mod state;
mod timer;
mod typescript;
pub mod url;

#[cfg(feature = "live-counts")]
#[doc(hidden)]
pub use live::{live_listeners, live_sockets};
pub use manager::ChatWebSocketManager;

/// The browser package is built without std (`--no-default-features`): std's panic and
/// formatting machinery was most of the wasm. A panic here is a bug; it traps.
#[cfg(all(not(feature = "std"), target_arch = "wasm32"))]
mod no_std_runtime {
    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        core::arch::wasm32::unreachable()
    }

    #[global_allocator]
    static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
        lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());
}
