//! A fake OpenAI-compatible upstream on raw TCP, so each test controls exactly what goes on
//! the wire: SSE split across writes, keep-alive comments, pauses, stalls, connection resets,
//! error statuses. It records every request and notices when the relay hangs up.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One step of a streamed response body.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write these bytes (one TCP write) and flush.
    Send(String),
    /// Write raw bytes, which need not be UTF-8, and flush.
    SendBytes(Vec<u8>),
    /// Wait, watching for the relay hanging up.
    Pause(Duration),
    /// Abort the connection with a TCP reset.
    Reset,
    /// Send nothing more until the relay hangs up.
    Hang,
}

/// How to answer one `POST /chat/completions`.
#[derive(Clone, Debug)]
pub enum Reply {
    /// An error status with a JSON body.
    Status {
        code: u16,
        body: String,
        retry_after: Option<u32>,
    },
    /// `200 text/event-stream`, body delimited by connection close.
    Sse(Vec<Step>),
    /// `200 application/json` (a non-streamed completion).
    Json(String),
    /// Read the request, never answer (not even headers) until the relay hangs up.
    Silent,
}

/// A recorded request.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    pub authorization: String,
    pub body: Value,
}

#[derive(Default)]
struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    models: Mutex<Option<Vec<String>>>,
    requests: Mutex<Vec<Recorded>>,
    disconnects: AtomicUsize,
    disconnected: Notify,
}

/// The running fake upstream.
#[derive(Clone)]
pub struct Upstream {
    pub base_url: String,
    shared: Arc<Shared>,
}

pub fn content(text: &str) -> Step {
    Step::Send(format!(
        "data: {}\n\n",
        json!({"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
    ))
}

pub fn reasoning(text: &str) -> Step {
    Step::Send(format!(
        "data: {}\n\n",
        json!({"choices": [{"index": 0, "delta": {"content": null, "reasoning_content": text}, "finish_reason": null}]})
    ))
}

pub fn finish(reason: &str) -> Step {
    Step::Send(format!(
        "data: {}\n\n",
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})
    ))
}

pub fn usage() -> Step {
    Step::Send(format!(
        "data: {}\n\n",
        json!({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}})
    ))
}

pub fn done() -> Step {
    Step::Send("data: [DONE]\n\n".to_owned())
}

pub fn pause(ms: u64) -> Step {
    Step::Pause(Duration::from_millis(ms))
}

/// A complete, well-behaved stream answering `words`.
pub fn answer(words: &[&str]) -> Reply {
    let mut steps: Vec<Step> = words.iter().map(|w| content(w)).collect();
    steps.extend([finish("stop"), usage(), done()]);
    Reply::Sse(steps)
}

pub fn status(code: u16, body: &str) -> Reply {
    Reply::Status {
        code,
        body: body.to_owned(),
        retry_after: None,
    }
}

impl Upstream {
    pub async fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        let shared = Arc::new(Shared::default());
        let accept_shared = Arc::clone(&shared);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&accept_shared)));
            }
        });
        Upstream { base_url, shared }
    }

    /// Queues replies for the next chat requests (a default answer follows when empty).
    pub fn push(&self, reply: Reply) {
        self.shared.replies.lock().unwrap().push_back(reply);
    }

    /// Makes `GET /models` list these ids (unset: 500).
    pub fn set_models(&self, ids: &[&str]) {
        *self.shared.models.lock().unwrap() = Some(ids.iter().map(|s| s.to_string()).collect());
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub fn chat_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/chat/completions"))
            .collect()
    }

    pub fn disconnects(&self) -> usize {
        self.shared.disconnects.load(Ordering::SeqCst)
    }

    /// Waits until the relay has hung up on `n` streaming responses in total.
    pub async fn wait_disconnects(&self, n: usize, within: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.shared.disconnected.notified();
                if self.disconnects() >= n {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(within, wait).await.is_ok()
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<(String, String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let mut length = 0;
    let mut authorization = String::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = value.trim().to_owned(),
                _ => {}
            }
        }
    }
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((path, authorization, body))
}

/// Waits `duration`, or returns false early if the peer hangs up.
async fn wait_connected(stream: &mut TcpStream, duration: Option<Duration>) -> bool {
    let mut byte = [0u8; 1];
    let sleep = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = sleep => true,
        read = stream.read(&mut byte) => !matches!(read, Ok(0) | Err(_)),
    }
}

async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let Some((path, authorization, body)) = read_request(&mut stream).await else {
        return;
    };
    let body_json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared.requests.lock().unwrap().push(Recorded {
        path: path.clone(),
        authorization,
        body: body_json,
    });
    if path.ends_with("/models") {
        let models = shared.models.lock().unwrap().clone();
        let reply = match models {
            Some(ids) => Reply::Json(json!({"object": "list", "data": ids.iter().map(|id| json!({"id": id, "object": "model"})).collect::<Vec<_>>()}).to_string()),
            None => status(500, r#"{"error":"no models"}"#),
        };
        write_reply(&mut stream, reply, &shared).await;
        return;
    }
    let reply = shared
        .replies
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| answer(&["Hello", " there"]));
    write_reply(&mut stream, reply, &shared).await;
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn write_reply(stream: &mut TcpStream, reply: Reply, shared: &Shared) {
    match reply {
        Reply::Status {
            code,
            body,
            retry_after,
        } => {
            let retry = retry_after
                .map(|s| format!("Retry-After: {s}\r\n"))
                .unwrap_or_default();
            let head = format!(
                "HTTP/1.1 {code} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{retry}Connection: close\r\n\r\n",
                reason_phrase(code),
                body.len()
            );
            let _ = stream.write_all(format!("{head}{body}").as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        Reply::Silent => {
            if !wait_connected(stream, None).await {
                shared.disconnects.fetch_add(1, Ordering::SeqCst);
                shared.disconnected.notify_waiters();
            }
        }
        Reply::Json(body) => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = stream.write_all(format!("{head}{body}").as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        Reply::Sse(steps) => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for step in steps {
                let alive = match step {
                    Step::Send(bytes) => {
                        stream.write_all(bytes.as_bytes()).await.is_ok()
                            && stream.flush().await.is_ok()
                    }
                    Step::SendBytes(bytes) => {
                        stream.write_all(&bytes).await.is_ok() && stream.flush().await.is_ok()
                    }
                    Step::Pause(d) => wait_connected(stream, Some(d)).await,
                    Step::Hang => wait_connected(stream, None).await,
                    Step::Reset => {
                        let _ = stream.set_zero_linger();
                        return;
                    }
                };
                if !alive {
                    shared.disconnects.fetch_add(1, Ordering::SeqCst);
                    shared.disconnected.notify_waiters();
                    return;
                }
            }
            let _ = stream.shutdown().await;
        }
    }
}
