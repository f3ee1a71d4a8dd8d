//! The fake OpenAI-compatible upstream: `POST /v1/chat/completions` answers with an SSE
//! stream shaped like DeepSeek's, written the way a real model server writes it: HTTP/1.1
//! chunked, TCP_NODELAY, **one event per `write`** (no batching upstream), so the relay gets
//! one small read per token, as it does in production. (`--upstream-batch N` puts N events in
//! each write instead; that is how the earlier axum-based upstream behaved and is kept only to
//! show what batching upstream hides.) What to stream is read from the user message:
//!
//! - `paced:{tokens}:{period_us}:{offset_us}`: one token every `period_us` after an initial
//!   `offset_us`; each token's text is the clock reading (ns) at the moment it is written to
//!   the socket, so the reader can compute how long it took to arrive.
//! - `burst:{tokens}`: tokens as fast as the connection takes them (text `tok`).
//!
//! Plain tokio I/O, one task per connection, keep-alive; the HTTP parsing below is the
//! minimum a fake upstream needs and is pure, so it is unit-tested.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use crate::clock::now_ns;

/// Most bytes of request head and body accepted.
const MAX_REQUEST: usize = 1 << 20;
/// Longest stream the upstream agrees to produce.
const MAX_TOKENS: u64 = 1_000_000;
const RESPONSE_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n";
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: 15\r\n\r\nunknown script\n";
const BURST_EVENT: &str =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok\"},\"finish_reason\":null}]}\n\n";
const FINISH_EVENT: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}\n\n";
const DONE_EVENT: &str = "data: [DONE]\n\n";
const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Where the fake upstream listens, and whether it speaks TLS (`--upstream-tls`).
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub addr: SocketAddr,
    pub tls: bool,
}

impl Endpoint {
    /// `http://ADDR` or `https://ADDR`, without the API's `/v1`.
    pub fn origin(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }
}

/// What one request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// Stamped tokens at a fixed period.
    Paced {
        tokens: u64,
        period: Duration,
        offset: Duration,
    },
    /// Constant tokens, no pauses.
    Burst { tokens: u64 },
}

impl Script {
    /// The user message that asks for this script.
    pub fn message(&self) -> String {
        match self {
            Script::Paced {
                tokens,
                period,
                offset,
            } => format!(
                "paced:{tokens}:{}:{}",
                period.as_micros(),
                offset.as_micros()
            ),
            Script::Burst { tokens } => format!("burst:{tokens}"),
        }
    }

    /// Parses [`Script::message`]'s output.
    pub fn parse(message: &str) -> Option<Script> {
        let mut parts = message.split(':');
        let kind = parts.next()?;
        let mut num = || parts.next()?.parse::<u64>().ok();
        match kind {
            "paced" => Some(Script::Paced {
                tokens: num()?.min(MAX_TOKENS),
                period: Duration::from_micros(num()?),
                offset: Duration::from_micros(num()?),
            }),
            "burst" => Some(Script::Burst {
                tokens: num()?.min(MAX_TOKENS),
            }),
            _ => None,
        }
    }

    /// The request body the relay would send for this script (used by the direct reader).
    pub fn request_body(&self) -> String {
        serde_json::json!({
            "model": "bench",
            "messages": [{"role": "user", "content": self.message()}],
            "stream": true,
            "stream_options": {"include_usage": true},
        })
        .to_string()
    }

    /// How many tokens the script streams.
    pub fn tokens(&self) -> u64 {
        match self {
            Script::Paced { tokens, .. } | Script::Burst { tokens } => *tokens,
        }
    }
}

/// The script asked for by a request body (the last message's content).
fn script_of(body: &[u8]) -> Option<Script> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let last = v.get("messages")?.as_array()?.last()?;
    Script::parse(last.get("content")?.as_str()?)
}

/// Where a request head ends and how long its body is, once `buf` holds the whole head.
fn parse_head(buf: &[u8]) -> Result<Option<(usize, usize)>, String> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > MAX_REQUEST {
            Err("request head too long".to_owned())
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| "request head is not UTF-8")?;
    let mut length = 0;
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            length = value
                .trim()
                .parse::<usize>()
                .map_err(|_| format!("bad content-length {value:?}"))?;
        } else if name.trim().eq_ignore_ascii_case("transfer-encoding") {
            return Err("chunked request bodies are not supported".to_owned());
        }
    }
    if length > MAX_REQUEST {
        return Err("request body too long".to_owned());
    }
    Ok(Some((end + 4, length)))
}

/// Appends `event` as one HTTP/1.1 chunk.
fn push_chunk(out: &mut Vec<u8>, event: &str) {
    out.extend_from_slice(format!("{:x}\r\n", event.len()).as_bytes());
    out.extend_from_slice(event.as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn stamped_event(stamp: u64) -> String {
    format!(
        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{stamp}\"}},\"finish_reason\":null}}]}}\n\n"
    )
}

/// Reads one request; `None` when the peer closed the connection between requests.
async fn read_request<S: AsyncRead + Unpin>(
    tcp: &mut S,
    buf: &mut Vec<u8>,
) -> io::Result<Option<Vec<u8>>> {
    loop {
        if let Some((head, length)) =
            parse_head(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
        {
            if buf.len() >= head + length {
                let body = buf[head..head + length].to_vec();
                buf.drain(..head + length);
                return Ok(Some(body));
            }
        }
        let mut chunk = [0u8; 4096];
        let n = tcp.read(&mut chunk).await?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Writes `bytes` and flushes them (a TLS stream may hold them until flushed).
async fn send<S: AsyncWrite + Unpin>(tcp: &mut S, bytes: &[u8]) -> io::Result<()> {
    tcp.write_all(bytes).await?;
    tcp.flush().await
}

/// Streams `script` as the body of one response, `batch` events per write (paced tokens are
/// always written one by one: their stamps are taken at the write).
async fn respond<S: AsyncWrite + Unpin>(
    tcp: &mut S,
    script: Script,
    batch: usize,
) -> io::Result<()> {
    send(tcp, RESPONSE_HEAD).await?;
    let batch = match script {
        Script::Paced { .. } => 1,
        Script::Burst { .. } => batch as u64,
    };
    let start = Instant::now();
    let mut out = Vec::with_capacity(256);
    let tokens = script.tokens();
    for sent in 0..tokens {
        match script {
            Script::Paced { period, offset, .. } => {
                let due = start + offset + period * u32::try_from(sent).unwrap_or(u32::MAX);
                tokio::time::sleep_until(due).await;
                push_chunk(&mut out, &stamped_event(now_ns()));
            }
            Script::Burst { .. } => push_chunk(&mut out, BURST_EVENT),
        }
        if (sent + 1) % batch == 0 || sent + 1 == tokens {
            send(tcp, &out).await?;
            out.clear();
        }
    }
    push_chunk(&mut out, FINISH_EVENT);
    send(tcp, &out).await?;
    out.clear();
    push_chunk(&mut out, DONE_EVENT);
    out.extend_from_slice(LAST_CHUNK);
    send(tcp, &out).await
}

async fn connection<S: AsyncRead + AsyncWrite + Unpin>(mut tcp: S, batch: usize) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    while let Some(body) = read_request(&mut tcp, &mut buf).await? {
        match script_of(&body) {
            Some(script) => respond(&mut tcp, script, batch).await?,
            None => send(&mut tcp, BAD_REQUEST).await?,
        }
    }
    Ok(())
}

/// Serves the fake upstream on `listener` until the process ends, writing `batch` events per
/// write (1: one event per write, like a model server), over TLS with `tls`.
pub async fn serve(listener: TcpListener, batch: usize, tls: Option<TlsAcceptor>) {
    let batch = batch.max(1);
    loop {
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                // Out of descriptors, typically; the clients see the failure and report it.
                eprintln!("relay-load: fake upstream accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // A real upstream sends each token at once; without TCP_NODELAY, Nagle's algorithm
        // would hold a token back until the previous one is acknowledged (up to ~40 ms).
        let _ = tcp.set_nodelay(true);
        let tls = tls.clone();
        tokio::spawn(async move {
            let served = match tls {
                None => connection(tcp, batch).await,
                Some(tls) => match tls.accept(tcp).await {
                    Ok(stream) => connection(stream, batch).await,
                    Err(e) => Err(e),
                },
            };
            if let Err(e) = served {
                if e.kind() == io::ErrorKind::InvalidData {
                    eprintln!("relay-load: fake upstream: {e}");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_round_trip_through_the_message() {
        let paced = Script::Paced {
            tokens: 100,
            period: Duration::from_millis(20),
            offset: Duration::from_micros(1500),
        };
        assert_eq!(Script::parse(&paced.message()), Some(paced));
        let burst = Script::Burst { tokens: 7 };
        assert_eq!(Script::parse(&burst.message()), Some(burst));
        assert_eq!(Script::parse("hello"), None);
        assert_eq!(Script::parse("burst:x"), None);
        assert_eq!(script_of(burst.request_body().as_bytes()), Some(burst));
        assert_eq!(script_of(b"{\"messages\":[]}"), None);
    }

    #[test]
    fn request_heads_give_the_body_length() {
        let req =
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(parse_head(req), Ok(Some((req.len() - 5, 5))));
        assert_eq!(parse_head(b"POST / HTTP/1.1\r\nHost: x\r\n"), Ok(None));
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\n\r\n"),
            Ok(Some((18, 0))),
            "no body without content-length"
        );
        assert!(parse_head(b"POST / HTTP/1.1\r\ncontent-length: x\r\n\r\n").is_err());
        assert!(parse_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").is_err());
    }

    #[test]
    fn events_are_framed_as_http_chunks() {
        let mut out = Vec::new();
        push_chunk(&mut out, DONE_EVENT);
        assert_eq!(out, b"e\r\ndata: [DONE]\n\n\r\n");
    }

    /// Two scripted responses on one kept-alive connection, and a refused request.
    async fn responses_read_back(tls: bool) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = Endpoint {
            addr: listener.local_addr().unwrap(),
            tls,
        };
        let acceptor = tls.then(|| crate::tls::acceptor().unwrap());
        tokio::spawn(serve(listener, 1, acceptor));
        let http = crate::http_client(endpoint).unwrap();
        let url = format!("{}/v1/chat/completions", endpoint.origin());
        for _ in 0..2 {
            // Twice on one pooled connection: keep-alive works.
            let body = http
                .post(&url)
                .body(Script::Burst { tokens: 3 }.request_body())
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(body.matches("\"content\":\"tok\"").count(), 3);
            assert!(body.ends_with(DONE_EVENT));
        }
        let refused = http.post(&url).body("{}").send().await.unwrap();
        assert_eq!(refused.status(), 400);
    }

    #[tokio::test]
    async fn responses_read_back_as_sse_on_a_kept_alive_connection() {
        responses_read_back(false).await;
    }

    #[tokio::test]
    async fn responses_read_back_over_tls_with_the_test_ca() {
        responses_read_back(true).await;
    }
}
