//! Test harness: start a relay on 127.0.0.1:0 with a test configuration, connect WebSocket
//! clients to it, and read frames with timeouts (a hung test fails instead of hanging).

use std::net::SocketAddr;
use std::time::Duration;

use chatwire_relay::auth::TokenSet;
use chatwire_relay::{run, AppState, Config};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Longest a test waits for any single frame.
pub const FRAME_WAIT: Duration = Duration::from_secs(5);

/// The API key the upstream tests configure; it must never appear in logs or frames.
pub const API_KEY: &str = "sk-test-KEY-0123456789abcdef";

/// An offline relay configuration with fast tokens.
pub fn offline_config() -> Config {
    let mut config = Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        shutdown_grace: Duration::from_millis(2_000),
        static_dir: "/nonexistent/chatwire-test-dist".into(),
        ..Config::default()
    };
    config.upstream.offline_token_delay = Duration::from_millis(2);
    config
}

/// A relay configuration that streams from the fake upstream at `base_url`.
pub fn upstream_config(base_url: &str) -> Config {
    let mut config = offline_config();
    config.upstream.api_key = Some(API_KEY.to_owned());
    config.upstream.base_url = base_url.to_owned();
    config.upstream.model = Some("test-model".to_owned());
    config.upstream.connect_timeout = Duration::from_secs(2);
    config.upstream.first_token_timeout = Duration::from_secs(3);
    config.upstream.idle_timeout = Duration::from_millis(400);
    config.upstream.backoff_base = Duration::from_millis(5);
    config.upstream.backoff_max = Duration::from_millis(20);
    config
}

/// With client tokens configured (not dev mode).
pub fn with_tokens(mut config: Config, tokens: &[&str]) -> Config {
    config.tokens = TokenSet::from_tokens(tokens.iter().copied());
    config
}

/// A running relay.
pub struct Relay {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Relay {
    pub async fn start(config: Config) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = AppState::new(config).await;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
        Relay {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn ws_url(&self, session: &str, token: Option<&str>) -> String {
        match token {
            Some(token) => format!("ws://{}/ws/chat/{session}/?token={token}", self.addr),
            None => format!("ws://{}/ws/chat/{session}/", self.addr),
        }
    }

    /// Connects as session `session` with token `dev`.
    pub async fn connect(&self, session: &str) -> Client {
        self.connect_with(session, Some("dev"), None).await.unwrap()
    }

    pub async fn connect_with(
        &self,
        session: &str,
        token: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
        let mut request = self.ws_url(session, token).into_client_request().unwrap();
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().unwrap());
        }
        let (ws, _) = tokio::time::timeout(FRAME_WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("connect timed out")?;
        Ok(Client { ws })
    }

    /// Triggers graceful shutdown (like SIGTERM).
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Triggers shutdown and waits for `run` to return.
    pub async fn stop(&mut self) {
        self.begin_shutdown();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("relay did not stop")
                .unwrap()
                .unwrap();
        }
    }

    /// Whether `run` has returned.
    pub fn finished(&self) -> bool {
        self.task.as_ref().is_none_or(|t| t.is_finished())
    }

    pub async fn get(&self, path: &str) -> (u16, String, String) {
        http_get(self.addr, path).await
    }
}

/// A bare-bones HTTP/1.1 GET (status, content-type, body) so the tests need no HTTP client.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(FRAME_WAIT, stream.read_to_end(&mut raw))
        .await
        .expect("http response timed out")
        .unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let content_type = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, content_type, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// A WebSocket client speaking JSON frames.
pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How a socket ended, as the client saw it.
#[derive(Debug, PartialEq)]
pub enum Closed {
    Code(u16, String),
    NoFrame,
}

impl Client {
    pub async fn send_json(&mut self, value: Value) {
        self.ws
            .send(Message::text(value.to_string()))
            .await
            .unwrap();
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws.send(Message::binary(bytes)).await.unwrap();
    }

    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.ws.send(Message::text(text.into())).await.unwrap();
    }

    /// Sends a chat message and returns nothing; read the reply with [`Client::reply`].
    pub async fn chat(&mut self, message: &str, conversation_id: &str, client_message_id: &str) {
        self.send_json(json!({"type": "chat_message", "data": {
            "message": message, "conversation_id": conversation_id, "client_message_id": client_message_id,
        }}))
        .await;
    }

    /// The next JSON frame (panics on close or timeout).
    pub async fn next_json(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(FRAME_WAIT, self.ws.next())
                .await
                .expect("timed out waiting for a frame")
                .expect("socket ended")
                .expect("socket error");
            match msg {
                Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Frames up to and including the one that ends a generation (complete, chat_message or
    /// an error with a message_id / client_message_id).
    pub async fn reply(&mut self) -> Vec<Value> {
        let mut frames = Vec::new();
        loop {
            let frame = self.next_json().await;
            let kind = frame["type"].as_str().unwrap_or("").to_owned();
            let ends = kind == "stream_complete"
                || kind == "chat_message"
                || (kind == "error"
                    && (frame["data"]["message_id"].is_string()
                        || frame["data"]["client_message_id"].is_string()));
            frames.push(frame);
            if ends {
                return frames;
            }
        }
    }

    /// Reads until the close frame; returns its code and reason.
    pub async fn closed(&mut self) -> Closed {
        loop {
            let next = tokio::time::timeout(FRAME_WAIT, self.ws.next())
                .await
                .expect("timed out waiting for close");
            match next {
                Some(Ok(Message::Close(Some(CloseFrame { code, reason })))) => {
                    return Closed::Code(code.into(), reason.to_string())
                }
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return Closed::NoFrame,
                Some(Ok(_)) => continue,
            }
        }
    }
}

/// The concatenated `token`s of frames of type `kind`, checking `seq` counts from 0.
pub fn joined(frames: &[Value], kind: &str) -> String {
    let mut text = String::new();
    for (expected_seq, frame) in frames.iter().filter(|f| f["type"] == kind).enumerate() {
        assert_eq!(
            frame["data"]["seq"], expected_seq,
            "seq out of order in {frames:?}"
        );
        text.push_str(frame["data"]["token"].as_str().unwrap());
    }
    text
}

/// Asserts the frames of one generation carry offsets 1, 2, 3, … with no gap, and returns
/// the last one.
pub fn assert_offsets_from(frames: &[Value], first: u64) -> u64 {
    let mut expected = first;
    for frame in frames {
        assert_eq!(
            frame["data"]["offset"], expected,
            "offset gap at {frame} in {frames:?}"
        );
        expected += 1;
    }
    expected - 1
}

/// The last frame, asserted to be an `error` with this code.
pub fn assert_error(frames: &[Value], code: &str) -> Value {
    let last = frames.last().expect("no frames");
    assert_eq!(
        last["type"], "error",
        "expected error {code}, got {frames:?}"
    );
    assert_eq!(last["data"]["code"], code, "frames: {frames:?}");
    last.clone()
}

/// The last frame, asserted to be a `stream_complete`.
pub fn assert_complete(frames: &[Value]) -> Value {
    let last = frames.last().expect("no frames");
    assert_eq!(last["type"], "stream_complete", "frames: {frames:?}");
    last.clone()
}
