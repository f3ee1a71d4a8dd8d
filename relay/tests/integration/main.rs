//! Integration tests of the relay over real sockets: the relay bound to 127.0.0.1:0, a fake
//! OpenAI-compatible upstream serving real SSE over HTTP/1.1, and a tokio-tungstenite client.

mod support;
mod upstream;

mod adversarial;
mod auth;
mod connection_limits;
mod errors;
mod flood;
mod hostile_client;
mod http;
mod lifecycle;
mod logs;
mod memory;
mod protocol;
mod resume;
mod shared_redis;
mod streaming;
