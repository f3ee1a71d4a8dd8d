//! `relay-floor`: the least any relay must do per token, to measure what this machine adds
//! before the relay's own work.
//!
//! It speaks just enough of chatwire-relay's interface for `relay-load` to run against it in
//! its place (`--relay target/server/relay-floor`): the same environment (`RELAY_ADDR`,
//! `DEEPSEEK_BASE_URL`), the same `listening on http://ADDR` log line, a WebSocket that
//! answers `ping` and streams a `chat_message`'s completion as `stream_token` frames and
//! one `stream_complete`. Per token it does only what cannot be left out: one read of the
//! upstream socket, one write to the client's WebSocket (of every token that read brought),
//! both from one task, so no wakeup passes between tasks or threads. There is no history,
//! no resume, no auth, no limits, no JSON parser: the token is cut out of the SSE event by
//! position, and the upstream is plain HTTP/1.1 read by hand, its connections kept for the
//! next reply as the relay's HTTP client keeps them (the bench's warm-up fills the pool
//! before anything is measured).
//!
//! The difference between the floor and the direct reading is what two more loopback hops
//! cost on this machine (wakeups, system calls, the kernel's TCP); the difference between
//! the relay and the floor is the relay's own work. Not a product: nothing else uses it.

use std::error::Error;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

#[path = "../flat_json.rs"]
mod flat_json;
use flat_json::string_field;

type Failure = Box<dyn Error + Send + Sync>;

/// Where completions are asked for: `DEEPSEEK_BASE_URL` split into address and path.
struct Upstream {
    addr: SocketAddr,
    /// `host:port`, for the `Host` header.
    authority: String,
    /// The base URL's path, `/v1` say; `/chat/completions` is appended.
    path: String,
    /// Connections whose last response was read to its end, ready for another request.
    idle: Mutex<Vec<TcpStream>>,
}

impl Upstream {
    /// Reads `http://HOST:PORT/PATH` (plain HTTP, a numeric address: the bench's upstream).
    fn parse(base: &str) -> Result<Upstream, Failure> {
        let rest = base
            .strip_prefix("http://")
            .ok_or("DEEPSEEK_BASE_URL: only http:// is supported")?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        Ok(Upstream {
            addr: authority.parse()?,
            authority: authority.to_owned(),
            path: format!("/{}", path.trim_end_matches('/')),
            idle: Mutex::default(),
        })
    }

    /// An idle kept-alive connection, or a new one.
    async fn connection(&self) -> Result<TcpStream, Failure> {
        let kept = self.idle.lock().map_err(|_| "pool lock poisoned")?.pop();
        if let Some(tcp) = kept {
            return Ok(tcp);
        }
        let tcp = TcpStream::connect(self.addr).await?;
        tcp.set_nodelay(true)?;
        Ok(tcp)
    }

    fn keep(&self, tcp: TcpStream) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(tcp);
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let addr = std::env::var("RELAY_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let upstream = Arc::new(Upstream::parse(&std::env::var("DEEPSEEK_BASE_URL")?)?);
    let listener = TcpListener::bind(&addr).await?;
    println!("relay-floor listening on http://{}", listener.local_addr()?);
    loop {
        let (tcp, _) = listener.accept().await?;
        let upstream = Arc::clone(&upstream);
        tokio::spawn(async move {
            if let Err(error) = serve(tcp, &upstream).await {
                println!("WARN relay-floor: {error}");
            }
        });
    }
}

/// One client socket: answers `ping`, streams each `chat_message`'s reply.
async fn serve(tcp: TcpStream, upstream: &Upstream) -> Result<(), Failure> {
    tcp.set_nodelay(true)?;
    // The same read buffer as the load generator's sockets (see `clients::connect`).
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let mut ws = tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await?;
    while let Some(message) = ws.next().await {
        let Message::Text(text) = message? else {
            continue;
        };
        let frame: serde_json::Value = serde_json::from_str(text.as_str())?;
        match frame["type"].as_str() {
            Some("ping") => {
                ws.send(Message::text(r#"{"type":"pong","data":{}}"#))
                    .await?
            }
            Some("chat_message") => {
                let asked = frame["data"]["message"].as_str().unwrap_or_default();
                stream(&mut ws, upstream, asked).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Asks the upstream for a completion of `asked` and forwards each token as it is read.
async fn stream(
    ws: &mut WebSocketStream<TcpStream>,
    upstream: &Upstream,
    asked: &str,
) -> Result<(), Failure> {
    let mut http = upstream.connection().await?;
    let body = serde_json::json!({
        "model": "floor",
        "messages": [{"role": "user", "content": asked}],
        "stream": true,
    })
    .to_string();
    let head = format!(
        "POST {}/chat/completions HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        upstream.path,
        upstream.authority,
        body.len()
    );
    http.write_all(format!("{head}{body}").as_bytes()).await?;

    let mut body = ChunkedBody::default();
    let mut read = vec![0u8; 16 * 1024];
    while !body.ended {
        let n = http.read(&mut read).await?;
        if n == 0 {
            return Err("upstream closed before the end of the response".into());
        }
        body.feed(&read[..n])?;
        // Every event this read brought goes out in one write, as the relay's socket writes
        // what is ready at once: at one event per read that is one write per token, and a
        // floor that fell behind does not pay a write per token the relay does not pay. A
        // write per token made it no floor under load (3 December, 3 alternating runs: 1,000 x
        // 100 tok/s added p99 513-553 ms against -4 to 86 ms with this; 1,000 unpaced 198k-212k
        // tokens/s at 4.6-4.7 CPU-s per Mtok against 300k-361k at 1.9-2.3).
        while let Some(event) = body.next_event() {
            if event.starts_with(b"data: [DONE]") {
                ws.feed(Message::text(r#"{"type":"stream_complete","data":{}}"#))
                    .await?;
            } else if let Some(token) = content_of(&event) {
                // The bench's tokens are digits or `tok`: nothing to escape.
                let frame = format!(r#"{{"type":"stream_token","data":{{"token":"{token}"}}}}"#);
                ws.feed(Message::text(frame)).await?;
            }
        }
        ws.flush().await?;
    }
    upstream.keep(http);
    Ok(())
}

/// The `"content":"…"` string of an SSE event, as the bench's upstream writes it.
fn content_of(event: &[u8]) -> Option<&str> {
    string_field(std::str::from_utf8(event).ok()?, "content")
}

/// An HTTP/1.1 response read as it arrives: its head skipped, its chunked body decoded, and
/// the body cut into SSE events (ended by a blank line).
#[derive(Default)]
struct ChunkedBody {
    /// Bytes read and not yet decoded.
    raw: Vec<u8>,
    head_done: bool,
    /// Decoded body bytes not yet cut into events.
    events: Vec<u8>,
    /// The last (empty) chunk was read: the connection can take another request.
    ended: bool,
}

impl ChunkedBody {
    fn feed(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.raw.extend_from_slice(bytes);
        if !self.head_done {
            let Some(end) = find(&self.raw, b"\r\n\r\n") else {
                return Ok(());
            };
            if !self.raw.starts_with(b"HTTP/1.1 200") {
                return Err("upstream answered with an error status".into());
            }
            self.raw.drain(..end + 4);
            self.head_done = true;
        }
        // Each whole chunk: `SIZE\r\nDATA\r\n`.
        let mut at = 0;
        while let Some(line) = find(&self.raw[at..], b"\r\n") {
            let size = std::str::from_utf8(&self.raw[at..at + line])?;
            let size = usize::from_str_radix(size.trim(), 16)?;
            let data = at + line + 2;
            if self.raw.len() < data + size + 2 {
                break;
            }
            self.events.extend_from_slice(&self.raw[data..data + size]);
            at = data + size + 2;
            self.ended = size == 0;
        }
        self.raw.drain(..at);
        Ok(())
    }

    fn next_event(&mut self) -> Option<Vec<u8>> {
        let end = find(&self.events, b"\n\n")?;
        let event = self.events[..end].to_vec();
        self.events.drain(..end + 2);
        Some(event)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_body_split_anywhere_gives_the_same_events() {
        let response = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
            9\r\ndata: 1\n\n\r\n\
            14\r\ndata: {\"content\":\"x\"\r\n\
            3\r\n}\n\n\r\n\
            e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n";
        for split in 0..response.len() {
            let mut body = ChunkedBody::default();
            let mut events = Vec::new();
            for part in [&response[..split], &response[split..]] {
                body.feed(part).unwrap();
                while let Some(event) = body.next_event() {
                    events.push(String::from_utf8(event).unwrap());
                }
            }
            assert_eq!(
                events,
                ["data: 1", "data: {\"content\":\"x\"}", "data: [DONE]"],
                "split at {split}"
            );
            assert!(body.ended, "split at {split}");
        }
        assert_eq!(content_of(b"data: {\"content\":\"x\"}"), Some("x"));
    }

    #[test]
    fn an_error_status_is_refused() {
        let mut body = ChunkedBody::default();
        assert!(body.feed(b"HTTP/1.1 400 Bad Request\r\n\r\n").is_err());
    }

    #[test]
    fn the_base_url_gives_address_and_path() {
        let upstream = Upstream::parse("http://127.0.0.1:9/v1/").unwrap();
        assert_eq!(upstream.addr, "127.0.0.1:9".parse().unwrap());
        assert_eq!(upstream.path, "/v1");
        assert!(Upstream::parse("https://x/v1").is_err());
    }
}
