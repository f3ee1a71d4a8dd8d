//! The two readers whose figures are compared, and the idle-socket opener: a chatwire
//! WebSocket client of the relay (one socket per stream, a new conversation per stream), and
//! a direct SSE reader of the upstream (reqwest, the HTTP client the relay itself uses).
//!
//! Opening a socket and streaming on it are separate calls, so a phase can open all of its
//! sockets first and start its clock when they are ready.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::clock::now_ns;
use crate::flat_json::string_field;
use crate::upstream::Script;

/// An open client WebSocket.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What one stream delivered.
#[derive(Debug, Default)]
pub struct StreamResult {
    /// Arrival time minus upstream stamp, per token (paced scripts only).
    pub latencies_ns: Vec<u64>,
    /// Tokens received.
    pub tokens: u64,
    /// Clock reading at the first token.
    pub first_ns: u64,
    /// Clock reading at the last token.
    pub last_ns: u64,
}

impl StreamResult {
    fn token(&mut self, text: Option<&str>, stamped: bool) {
        let now = now_ns();
        if self.tokens == 0 {
            self.first_ns = now;
        }
        self.last_ns = now;
        self.tokens += 1;
        if stamped {
            if let Some(stamp) = text.and_then(|t| t.parse::<u64>().ok()) {
                self.latencies_ns.push(now.saturating_sub(stamp));
            }
        }
    }

    /// The result, or an error when fewer tokens came than the script sends.
    fn complete(self, script: Script) -> Result<StreamResult, String> {
        if self.tokens == script.tokens() {
            Ok(self)
        } else {
            Err(format!(
                "stream ended after {} of {} tokens",
                self.tokens,
                script.tokens()
            ))
        }
    }
}

/// Opens a chatwire socket to the relay.
pub async fn connect(ws_base: &str, session: &str) -> Result<Socket, String> {
    let url = format!("{ws_base}/ws/chat/{session}/?token=bench");
    // tungstenite zero-fills its whole read buffer (128 KiB by default) on reads; with
    // thousands of sockets that memset was a fifth of the machine's CPU, taken from the relay.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (socket, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    Ok(socket)
}

/// Opens a socket and exchanges one `ping`/`pong`, so the relay has used its buffers for it
/// once (an idle chat socket has at least seen a heartbeat).
pub async fn connect_and_ping(ws_base: &str, session: &str) -> Result<Socket, String> {
    let mut socket = connect(ws_base, session).await?;
    socket
        .send(Message::text(r#"{"type":"ping","data":{}}"#))
        .await
        .map_err(|e| format!("send: {e}"))?;
    while let Some(message) = socket.next().await {
        if let Message::Text(text) = message.map_err(|e| format!("read: {e}"))? {
            if string_field(text.as_str(), "type") == Some("pong") {
                return Ok(socket);
            }
        }
    }
    Err("socket ended before pong".to_owned())
}

/// The `chat_message` frame asking for `script` in conversation `conversation`.
fn chat_frame(conversation: &str, script: Script) -> String {
    serde_json::json!({
        "type": "chat_message",
        "data": {
            "message": script.message(),
            "conversation_id": conversation,
            "client_message_id": format!("{conversation}-m"),
        },
    })
    .to_string()
}

/// Opens a fresh socket for session `session` and streams one generation on it.
pub async fn relayed(
    ws_base: &str,
    session: &str,
    conversation: &str,
    script: Script,
) -> Result<StreamResult, String> {
    let socket = connect(ws_base, session).await?;
    stream(socket, conversation, script).await
}

/// Asks for one generation of `script` in conversation `conversation` (new to the relay) on
/// an open socket, reads it to the end, and closes the socket.
pub async fn stream(
    mut socket: Socket,
    conversation: &str,
    script: Script,
) -> Result<StreamResult, String> {
    let stamped = matches!(script, Script::Paced { .. });
    socket
        .send(Message::text(chat_frame(conversation, script)))
        .await
        .map_err(|e| format!("send: {e}"))?;
    let mut result = StreamResult::default();
    while let Some(message) = socket.next().await {
        let text = match message.map_err(|e| format!("read: {e}"))? {
            Message::Text(text) => text,
            Message::Close(frame) => return Err(format!("relay closed the socket: {frame:?}")),
            _ => continue,
        };
        match string_field(text.as_str(), "type") {
            Some("stream_token") => result.token(string_field(text.as_str(), "token"), stamped),
            Some("stream_complete") => {
                let _ = socket.close(None).await;
                return result.complete(script);
            }
            Some("error") => return Err(format!("relay error frame: {}", text.as_str())),
            _ => {}
        }
    }
    Err("socket ended before stream_complete".to_owned())
}

/// Reads `script` straight from the upstream's SSE, as the relay's HTTP client would.
pub async fn direct(
    http: &reqwest::Client,
    upstream: &str,
    script: Script,
) -> Result<StreamResult, String> {
    let stamped = matches!(script, Script::Paced { .. });
    let response = http
        .post(format!("{upstream}/v1/chat/completions"))
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(script.request_body())
        .send()
        .await
        .map_err(|e| format!("request: {e}"))?;
    let mut body = response.bytes_stream();
    let mut buffer: Vec<u8> = Vec::new();
    let mut result = StreamResult::default();
    while let Some(chunk) = body.next().await {
        buffer.extend_from_slice(&chunk.map_err(|e| format!("body: {e}"))?);
        let mut consumed = 0;
        while let Some(end) = buffer[consumed..].windows(2).position(|w| w == b"\n\n") {
            let event = std::str::from_utf8(&buffer[consumed..consumed + end]).unwrap_or("");
            consumed += end + 2;
            if event.starts_with("data: [DONE]") {
                return result.complete(script);
            }
            if let Some(content) = string_field(event, "content") {
                result.token(Some(content), stamped);
            }
        }
        buffer.drain(..consumed);
    }
    Err("upstream body ended before [DONE]".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stream_asks_in_its_own_conversation() {
        let frame: serde_json::Value =
            serde_json::from_str(&chat_frame("c-7", Script::Burst { tokens: 3 })).unwrap();
        assert_eq!(frame["type"], "chat_message");
        assert_eq!(frame["data"]["conversation_id"], "c-7");
        assert_eq!(frame["data"]["message"], "burst:3");
    }

    #[test]
    fn a_short_stream_is_an_error() {
        let script = Script::Burst { tokens: 2 };
        let mut result = StreamResult::default();
        result.token(Some("tok"), false);
        assert!(result.complete(script).is_err());
        let mut result = StreamResult::default();
        result.token(Some("tok"), false);
        result.token(Some("tok"), false);
        assert_eq!(result.complete(script).unwrap().tokens, 2);
    }
}
