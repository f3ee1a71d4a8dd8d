//! The WebSocket endpoint `GET /ws/chat/{session_id}/?token=…`: Origin check before the
//! upgrade (HTTP 403), token check after it (close 4401, which browsers can observe), then
//! the socket is handed to `connection.rs` with small buffers and a 64 KiB frame limit.

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::connection;
use crate::protocol::close;
use crate::state::AppState;

/// Frames fed to a socket wait in its write buffer until `connection.rs` flushes the batch
/// (or this many bytes wait): one `send` per batch of frames instead of one per frame. With
/// 0 (eager writes), `sendto` was 45% of the relay's CPU at 1,000 unpaced streams. The
/// buffer grows as frames are fed and tungstenite keeps its capacity after a flush: a fresh
/// socket holds a pong's worth, one that received a 1,000-token reply about 4.4 KB.
const WRITE_BUFFER: usize = 64 * 1024;

/// Longest accepted session id, in bytes.
const MAX_SESSION_ID: usize = 128;

/// Query parameters of the endpoint.
#[derive(Deserialize)]
pub struct Params {
    token: Option<String>,
}

fn valid_session_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_SESSION_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// Handles the upgrade request.
pub async fn upgrade(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if !state
        .config
        .origins
        .allows(origin, host, state.config.dev_mode())
    {
        tracing::warn!(
            origin = origin.unwrap_or(""),
            "refused a WebSocket from a foreign Origin"
        );
        return (StatusCode::FORBIDDEN, "origin not allowed\n").into_response();
    }
    let owner = state.config.tokens.check(params.token.as_deref());
    let config = &state.config;
    let tracked = state.sockets.token();
    ws.read_buffer_size(config.ws_read_buffer)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(config.max_frame_bytes)
        .max_frame_size(config.max_frame_bytes)
        .on_upgrade(move |mut socket| async move {
            let _tracked = tracked;
            let Some(owner) = owner else {
                tracing::warn!(session_id = %session_id.chars().take(MAX_SESSION_ID).collect::<String>(), "refused a WebSocket with a missing or wrong token; closing with 4401");
                connection::close(&mut socket, close::UNAUTHORIZED, "unauthorized").await;
                return;
            };
            if !valid_session_id(&session_id) {
                tracing::warn!("refused a WebSocket with an invalid session id; closing with 1008");
                connection::close(&mut socket, close::POLICY, "invalid session id").await;
            } else {
                tracing::debug!(%session_id, "socket open");
                connection::serve(&mut socket, state, owner, session_id).await;
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_short_and_plain() {
        assert!(valid_session_id("session_user_1700000000_k3j4h5"));
        assert!(!valid_session_id(""));
        assert!(!valid_session_id("a/b"));
        assert!(!valid_session_id(&"x".repeat(129)));
    }
}
