//! Hostile input and faults, over real sockets: an upstream that misbehaves (oversized
//! lines, bytes that are not UTF-8 or not JSON, resets, refused connections, names that do
//! not resolve). RELIABILITY.md lists each case with its result.

use std::time::{Duration, Instant};

use crate::support::*;
use crate::upstream::*;

/// `data: ` followed by `total` bytes of `x` and no line end, in 64 KiB writes.
fn endless_line(total: usize) -> Vec<Step> {
    let mut steps = vec![Step::Send("data: ".to_owned())];
    let write = "x".repeat(64 * 1024);
    for _ in 0..total / write.len() {
        steps.push(Step::Send(write.clone()));
    }
    steps
}

#[tokio::test]
async fn a_10_mb_line_without_newline_is_refused_not_buffered() {
    let up = Upstream::start().await;
    // Three attempts (the relay retries before the first token), each 10 MB, then silence.
    // A relay that buffered the line would wait for its end and report a stall instead.
    for _ in 0..3 {
        let mut steps = endless_line(10 * 1024 * 1024);
        steps.push(Step::Hang);
        up.push(Reply::Sse(steps));
    }
    let mut config = upstream_config(&up.base_url);
    config.upstream.idle_timeout = Duration::from_secs(2);
    config.upstream.first_token_timeout = Duration::from_secs(10);
    let relay = Relay::start(config).await;
    let mut client = relay.connect("session_endless").await;
    let started = Instant::now();
    client.chat("hi", "conv_1", "c-1").await;
    let frames = client.reply().await;
    assert_error(&frames, "upstream_unavailable");
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(up.chat_requests().len(), 3);
    assert!(
        up.wait_disconnects(3, Duration::from_secs(2)).await,
        "the relay kept reading an endless line"
    );
    // Each attempt was cut off while the upstream was still sending, not by the 2 s idle
    // timeout.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The socket is still usable.
    client.chat("again", "conv_1", "c-2").await;
    assert_complete(&client.reply().await);
}

#[tokio::test]
async fn invalid_utf8_mid_stream_ends_the_reply_with_upstream_unavailable() {
    let up = Upstream::start().await;
    up.push(Reply::Sse(vec![
        content("Fine so far"),
        Step::SendBytes(
            b"data: {\"choices\":[{\"delta\":{\"content\":\"\xff\xfe\"}}]}\n\n".to_vec(),
        ),
        content(" and never shown"),
        finish("stop"),
        done(),
    ]));
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut client = relay.connect("session_utf8").await;
    client.chat("hi", "conv_1", "c-1").await;
    let frames = client.reply().await;
    assert_eq!(joined(&frames, "stream_token"), "Fine so far");
    let error = assert_error(&frames, "upstream_unavailable");
    assert_eq!(error["data"]["client_message_id"], "c-1");
    assert_eq!(
        up.chat_requests().len(),
        1,
        "no retry after the first token"
    );
}

#[tokio::test]
async fn invalid_json_mid_stream_is_an_error_not_a_silently_shorter_answer() {
    let up = Upstream::start().await;
    up.push(Reply::Sse(vec![
        content("Half"),
        Step::Send("data: {\"choices\":[{\"delta\":{\"content\":\" a lost token\"\n\n".into()),
        content(" answer"),
        finish("stop"),
        done(),
    ]));
    // Before the first token, the same fault is retried; the retry here succeeds.
    up.push(Reply::Sse(vec![Step::Send("data: [1, 2\n\n".into())]));
    up.push(answer(&["Retried"]));
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut client = relay.connect("session_json").await;
    client.chat("hi", "conv_1", "c-1").await;
    let frames = client.reply().await;
    assert_eq!(joined(&frames, "stream_token"), "Half");
    assert_error(&frames, "upstream_unavailable");
    client.chat("hi", "conv_2", "c-2").await;
    let done = assert_complete(&client.reply().await);
    assert_eq!(done["data"]["content"], "Retried");
    assert_eq!(up.chat_requests().len(), 3);
}

#[tokio::test]
async fn a_tcp_reset_inside_an_sse_line_ends_the_reply_with_upstream_unavailable() {
    let up = Upstream::start().await;
    up.push(Reply::Sse(vec![
        content("Cut "),
        Step::Send("data: {\"choices\":[{\"delta\":{\"cont".into()),
        pause(20),
        Step::Reset,
    ]));
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut client = relay.connect("session_reset_mid_line").await;
    client.chat("hi", "conv_1", "c-1").await;
    let frames = client.reply().await;
    assert_eq!(joined(&frames, "stream_token"), "Cut ");
    assert_error(&frames, "upstream_unavailable");
    assert_eq!(up.chat_requests().len(), 1);
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_upstream_unavailable() {
    // A port that was just free: nothing listens, so connecting is refused at once.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let relay = Relay::start(upstream_config(&format!("http://{addr}/v1"))).await;
    let mut client = relay.connect("session_refused").await;
    let started = Instant::now();
    client.chat("hi", "conv_1", "c-1").await;
    let error = assert_error(&client.reply().await, "upstream_unavailable");
    assert_eq!(error["data"]["retryable"], true);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(relay
        .state
        .metrics
        .render()
        .contains("chatwire_upstream_retries_total 2\n"));
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_upstream_unavailable() {
    // `.invalid` never resolves (RFC 6761).
    let relay = Relay::start(upstream_config("http://chatwire-upstream.invalid/v1")).await;
    let mut client = relay.connect("session_dns").await;
    client.chat("hi", "conv_1", "c-1").await;
    let frames = client.reply().await;
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_error(&frames, "upstream_unavailable");
}
