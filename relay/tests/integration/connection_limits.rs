//! Connection and time limits over real sockets: the cap on connections per address, a
//! handshake whose headers trickle in, a socket that stays silent, and a client that never
//! reads. Each test sets its limit short and prints what it measured (RELIABILITY.md keeps
//! the figures); the bounds asserted are generous, for a loaded machine.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::MaybeTlsStream;

use chatwire_relay::registry::BufferBounds;

use crate::support::*;
use crate::upstream::*;

/// A WebSocket upgrade request for `session`, complete.
fn handshake(addr: SocketAddr, session: &str) -> String {
    format!(
        "GET /ws/chat/{session}/?token=dev HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// Reads until the relay closes the connection (end of stream or reset); how long it took.
async fn wait_closed(stream: &mut TcpStream, within: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at((started + within).into(), stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("the relay kept the connection open for {within:?}"),
        }
    }
}

/// The value of `chatwire_limit_closes_total{limit=…}`.
fn limit_closes(relay: &Relay, limit: &str) -> u64 {
    let text = relay.state.metrics.render();
    let prefix = format!("chatwire_limit_closes_total{{limit=\"{limit}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {prefix} in {text}"))
}

/// Tries to open a socket until it works or `within` passes.
async fn connect_within(relay: &Relay, session: &str, within: Duration) -> Option<Client> {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(client) = relay.connect_with(session, Some("dev"), None).await {
            return Some(client);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn connections_over_the_per_address_cap_are_closed_on_accept() {
    let mut config = offline_config();
    config.limits.max_connections_per_ip = Some(3);
    config.limits.handshake_timeout = Duration::from_millis(500);
    let relay = Relay::start(config).await;
    let mut a = relay.connect("session_cap_a").await;
    let b = relay.connect("session_cap_b").await;
    // A connection that has sent nothing yet holds a place too.
    let mut silent = TcpStream::connect(relay.addr).await.unwrap();
    let refused = relay.connect_with("session_cap_d", Some("dev"), None).await;
    assert!(refused.is_err(), "a fourth connection was served");
    assert_eq!(limit_closes(&relay, "connections_per_ip"), 1);
    // Plain HTTP counts as well: /healthz is refused now.
    let mut http = TcpStream::connect(relay.addr).await.unwrap();
    http.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    wait_closed(&mut http, FRAME_WAIT).await;
    // The sockets already open are not disturbed.
    a.send_json(json!({"type": "ping"})).await;
    assert_eq!(a.next_json().await["type"], "pong");
    // The silent one is closed by the handshake timeout, which frees its place.
    wait_closed(&mut silent, FRAME_WAIT).await;
    let mut d = connect_within(&relay, "session_cap_d", FRAME_WAIT)
        .await
        .expect("a place freed by the handshake timeout was not given back");
    d.send_json(json!({"type": "ping"})).await;
    assert_eq!(d.next_json().await["type"], "pong");
    // Closing a socket frees its place as well.
    drop(b);
    let mut e = connect_within(&relay, "session_cap_e", FRAME_WAIT)
        .await
        .expect("a closed socket's place was not given back");
    e.send_json(json!({"type": "ping"})).await;
    assert_eq!(e.next_json().await["type"], "pong");
}

/// Writes `bytes` one every `every` until the relay closes the connection; returns how long
/// after the first byte that was, and how many bytes went out.
async fn trickle(stream: &mut TcpStream, bytes: &[u8], every: Duration) -> (Duration, usize) {
    let (mut reader, mut writer) = stream.split();
    let started = Instant::now();
    let mut written = 0;
    let write = async {
        for byte in bytes {
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
            written += 1;
            tokio::time::sleep(every).await;
        }
        std::future::pending::<()>().await;
    };
    let closed = async {
        let mut buf = [0u8; 256];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    };
    tokio::select! {
        () = write => unreachable!(),
        () = closed => {}
    }
    (started.elapsed(), written)
}

#[tokio::test]
async fn a_handshake_whose_headers_trickle_in_is_closed_within_the_timeout() {
    let timeout = Duration::from_millis(500);
    let mut config = offline_config();
    config.limits.handshake_timeout = timeout;
    let relay = Relay::start(config).await;
    let request = handshake(relay.addr, "session_trickle");

    // One byte every 50 ms: the head would take over 10 s to arrive.
    let mut slow = TcpStream::connect(relay.addr).await.unwrap();
    let (took, written) = trickle(&mut slow, request.as_bytes(), Duration::from_millis(50)).await;
    eprintln!(
        "trickled handshake (1 byte / 50 ms, timeout {timeout:?}): closed after {took:?}, {written} of {} bytes sent",
        request.len()
    );
    assert!(written < request.len(), "{written}");
    assert!(took >= timeout - Duration::from_millis(100), "{took:?}");
    assert!(took < timeout * 6, "{took:?}");

    // A connection that sends nothing at all.
    let mut silent = TcpStream::connect(relay.addr).await.unwrap();
    let took = wait_closed(&mut silent, FRAME_WAIT).await;
    eprintln!("silent connection (timeout {timeout:?}): closed after {took:?}");
    assert!(took >= timeout - Duration::from_millis(100), "{took:?}");

    // A kept-alive HTTP connection waiting for its next request is closed the same way.
    let mut kept = TcpStream::connect(relay.addr).await.unwrap();
    kept.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", relay.addr).as_bytes())
        .await
        .unwrap();
    let took = wait_closed(&mut kept, FRAME_WAIT).await;
    eprintln!("kept-alive HTTP connection after its response (timeout {timeout:?}): closed after {took:?}");
    assert!(took >= timeout - Duration::from_millis(100), "{took:?}");

    // A handshake that is slow but complete within the timeout is served.
    let mut patient = TcpStream::connect(relay.addr).await.unwrap();
    for chunk in request.as_bytes().chunks(request.len() / 5 + 1) {
        patient.write_all(chunk).await.unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let mut response = [0u8; 12];
    tokio::time::timeout(FRAME_WAIT, patient.read_exact(&mut response))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&response, b"HTTP/1.1 101");
    assert!(limit_closes(&relay, "handshake_timeout") >= 2);
}

#[tokio::test]
async fn a_silent_socket_is_closed_after_the_idle_timeout_but_not_one_that_pings_or_listens() {
    let up = Upstream::start().await;
    // A reply that takes about 1.5 s, three times the idle timeout.
    up.push(Reply::Sse(vec![
        content("slow "),
        pause(500),
        content("but "),
        pause(500),
        content("steady"),
        pause(500),
        finish("stop"),
        done(),
    ]));
    let idle = Duration::from_millis(500);
    let mut config = upstream_config(&up.base_url);
    config.upstream.idle_timeout = Duration::from_secs(3);
    config.limits.idle_timeout = Some(idle);
    let relay = Relay::start(config).await;

    let mut silent = relay.connect("session_silent").await;
    let mut pinging = relay.connect("session_pinging").await;
    let mut listening = relay.connect("session_listening").await;
    let opened = Instant::now();
    listening.chat("hi", "conv_1", "c-1").await;

    let silent_closed = async {
        let closed = silent.closed().await;
        (closed, opened.elapsed())
    };
    let listened = std::cell::Cell::new(false);
    let keep_pinging = async {
        // Every 200 ms until the listening socket has been closed (over 2 s, four idle
        // timeouts).
        let mut n = 0;
        while !listened.get() {
            n += 1;
            pinging
                .send_json(json!({"type": "ping", "data": {"n": n}}))
                .await;
            assert_eq!(pinging.next_json().await["data"]["n"], n);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        n
    };
    let listen = async {
        let frames = listening.reply().await;
        let done = opened.elapsed();
        assert_complete(&frames);
        assert_eq!(joined(&frames, "stream_token"), "slow but steady");
        let closed = listening.closed().await;
        listened.set(true);
        (done, closed, opened.elapsed())
    };
    let ((silent_code, silent_after), pings, (reply_done, listen_code, listen_after)) =
        tokio::join!(silent_closed, keep_pinging, listen);

    eprintln!("idle timeout {idle:?}: the silent socket closed after {silent_after:?}; the listening one's reply ended after {reply_done:?}, the socket closed after {listen_after:?}; the pinging one sent {pings} pings 200 ms apart and stayed open");
    assert_eq!(silent_code, Closed::Code(1001, "idle timeout".into()));
    // (`opened` was taken just after the sockets opened.)
    let slack = Duration::from_millis(50);
    assert!(
        silent_after + slack >= idle && silent_after < idle * 6,
        "{silent_after:?}"
    );
    assert!(reply_done > idle * 2, "{reply_done:?}");
    assert_eq!(listen_code, Closed::Code(1001, "idle timeout".into()));
    assert!(
        listen_after + slack >= reply_done + idle,
        "{listen_after:?}"
    );
    // The pinging socket was never idle.
    pinging.send_json(json!({"type": "ping"})).await;
    assert_eq!(pinging.next_json().await["type"], "pong");
    assert_eq!(limit_closes(&relay, "idle"), 2);
}

/// Opens a socket whose receive buffer is 4 KiB and which will never be read.
async fn connect_never_reading(relay: &Relay, session: &str) -> Client {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(relay.addr).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(
        relay.ws_url(session, Some("dev")),
        MaybeTlsStream::Plain(stream),
    )
    .await
    .unwrap();
    Client { ws }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_dropped_without_stalling_the_other_watcher() {
    let up = Upstream::start().await;
    // A first token, a pause for the second socket to attach from offset 0 (before the
    // first frames leave the resume buffer), then 400 tokens of 32 KiB: 12.8 MiB, more than
    // the kernel's buffers, the relay's outbox and the resume buffer hold for a socket that
    // reads nothing.
    let token = "x".repeat(32 * 1024);
    let mut steps = vec![content("start "), pause(1_000)];
    steps.extend((0..400).map(|_| content(&token)));
    steps.extend([finish("stop"), done()]);
    up.push(Reply::Sse(steps));
    let write_timeout = Duration::from_millis(500);
    let mut config = upstream_config(&up.base_url);
    config.upstream.idle_timeout = Duration::from_secs(5);
    config.limits.write_timeout = write_timeout;
    // The generation waits for a watcher 8 frames behind (half of 16). The bytes bound is
    // raised so the final `stream_complete`, which carries all 12.8 MiB, does not push the
    // last tokens out of the buffer before a watcher that is behind has sent them (with
    // the default 1 MiB it does: that watcher then gets `stream_expired`).
    config.resume.bounds = BufferBounds {
        max_frames: 16,
        max_bytes: 64 * 1024 * 1024,
    };
    let relay = Relay::start(config).await;

    let mut deaf = connect_never_reading(&relay, "session_shared").await;
    let mut reader = relay.connect("session_shared").await;
    let mut bystander = relay.connect("session_bystander").await;
    deaf.chat("tell me everything", "conv_1", "c-1").await;
    // The second socket of the same session attaches to the same generation (once the
    // relay has started it: the two sockets' frames are not ordered).
    let asked = Instant::now();
    loop {
        reader
            .send_json(json!({"type": "resume", "data": {"client_message_id": "c-1", "offset": 0}}))
            .await;
        let resumed = reader.next_json().await;
        assert_eq!(resumed["type"], "resumed", "{resumed}");
        if resumed["data"]["recovered"] == true {
            break;
        }
        assert!(asked.elapsed() < Duration::from_millis(900), "{resumed}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let started = Instant::now();
    let read_all = async {
        let mut longest_gap = Duration::ZERO;
        let mut last = Instant::now();
        let mut tokens = 0usize;
        loop {
            let frame = reader.next_json().await;
            // Gaps between the large tokens only (not the upstream's pause after the first).
            if tokens >= 2 {
                longest_gap = longest_gap.max(last.elapsed());
            }
            last = Instant::now();
            match frame["type"].as_str() {
                Some("stream_token") => tokens += 1,
                Some("stream_complete") => break,
                other => panic!(
                    "{other:?} after {tokens} tokens: {}",
                    frame.to_string().chars().take(300).collect::<String>()
                ),
            }
        }
        (tokens, longest_gap, started.elapsed())
    };
    let ping_meanwhile = async {
        let mut worst = Duration::ZERO;
        for _ in 0..10 {
            let sent = Instant::now();
            bystander.send_json(json!({"type": "ping"})).await;
            assert_eq!(bystander.next_json().await["type"], "pong");
            worst = worst.max(sent.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        worst
    };
    let ((tokens, longest_gap, took), worst_ping) = tokio::join!(read_all, ping_meanwhile);
    eprintln!(
        "never-reading watcher (write timeout {write_timeout:?}): the other watcher got all {tokens} tokens (12.8 MiB) in {took:?}, longest gap between its large tokens {longest_gap:?}; a third socket's slowest pong {worst_ping:?}"
    );
    assert_eq!(tokens, 401);
    // The stall lasts about the write timeout, not the 30 s the writer allows one batch.
    assert!(longest_gap < Duration::from_secs(10), "{longest_gap:?}");
    // The deaf socket was dropped: reading it now finds what the kernel held, then the end.
    assert_eq!(deaf.closed().await, Closed::NoFrame);
    assert_eq!(relay.state.metrics.connections_open(), 2);
}
