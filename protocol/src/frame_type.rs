//! The `type` names of frames, for code that looks at a frame's type before (or instead of)
//! decoding its data: the relay's decoder, and the client's dispatch to callbacks.

/// Client → relay: heartbeat, answered by [`PONG`].
pub const PING: &str = "ping";
/// Client → relay: start a generation. Relay → client: a whole, non-streamed reply.
pub const CHAT_MESSAGE: &str = "chat_message";
/// Client → relay: stop a generation.
pub const CANCEL: &str = "cancel";
/// Client → relay: continue a generation after a reconnect.
pub const RESUME: &str = "resume";

/// Relay → client: the answer to a [`PING`].
pub const PONG: &str = "pong";
/// Relay → client: one piece of the answer.
pub const STREAM_TOKEN: &str = "stream_token";
/// Relay → client: one piece of the model's reasoning.
pub const REASONING_TOKEN: &str = "reasoning_token";
/// Relay → client: the streamed answer finished.
pub const STREAM_COMPLETE: &str = "stream_complete";
/// Relay → client: something went wrong.
pub const ERROR: &str = "error";
/// Relay → client: the answer to a [`RESUME`].
pub const RESUMED: &str = "resumed";
