//! The browser adapter: wires WebSocket events, timers and page-life events to the decisions
//! in [`crate::core`], and calls the app's JS callbacks. Built on web-sys and js-sys; tested
//! in browsers (`tests/web.rs`).

mod auth_token;
mod callbacks;
mod connection;
mod dispatch;
pub mod endpoint;
mod js;
mod keepalive;
mod listener;
mod manager;
mod options;
mod outgoing;
mod page_life;
mod shared;
mod socket;
mod timer;
mod typescript;

pub use manager::ChatWebSocketManager;
