//! chatwire: a real-time chat transport for AI apps, compiled to WebAssembly.
//!
//! [`ChatWebSocketManager`] wraps the browser WebSocket for the chat protocol in
//! `PROTOCOL.md`: it reconnects with exponential backoff, keeps the connection alive with
//! ping/pong, queues frames while offline and dispatches server frames by `type` to JS
//! callbacks.
//!
//! - [`core`]: the decisions (backoff, lifecycle, heartbeat, outbox, stream accumulation,
//!   options, endpoint, frame kinds, ids), plain Rust tested natively with `cargo test`.
//! - [`browser`]: the thin adapter on web-sys and js-sys, tested in browsers
//!   (`tests/web.rs`).
//!
//! The npm package is built without the default `std` feature: std's panic machinery would
//! link core's formatting code, most of it unreachable (README "Size" has the figure).
//! Native and browser tests build the same code with std.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod browser;
pub mod core;

pub use browser::ChatWebSocketManager;

/// The package's runtime without std: a panic is a bug, and traps; memory comes from a small
/// free-list allocator (a chat client allocates little; README "Size" gives its saving).
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
