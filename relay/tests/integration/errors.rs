//! Upstream failures: each status maps to its code, bodies are never forwarded, retries
//! happen only before the first token, stalls and resets end the reply with an error.

use std::time::{Duration, Instant};

use crate::support::*;
use crate::upstream::*;

/// A body that must never reach the browser.
const LEAKY_BODY: &str =
    r#"{"error":{"message":"internal detail: prompt was 'top secret plans'","type":"x"}}"#;

#[tokio::test]
async fn each_error_status_maps_to_its_code_without_forwarding_the_body() {
    let up = Upstream::start().await;
    let mut config = upstream_config(&up.base_url);
    config.upstream.max_attempts = 1;
    let relay = Relay::start(config).await;
    let mut client = relay.connect("session_status").await;
    let cases = [
        (400, "upstream_bad_request", false),
        (422, "upstream_bad_request", false),
        (401, "upstream_auth", false),
        (402, "upstream_quota", false),
        (429, "upstream_rate_limited", true),
        (500, "upstream_unavailable", true),
        (503, "upstream_unavailable", true),
        (404, "model_not_found", false),
    ];
    for (i, (code, expected, retryable)) in cases.into_iter().enumerate() {
        up.push(status(code, LEAKY_BODY));
        client
            .chat("hello", &format!("conv_{i}"), &format!("c-{i}"))
            .await;
        let frames = client.reply().await;
        assert_eq!(frames.len(), 1, "HTTP {code}: {frames:?}");
        let error = assert_error(&frames, expected);
        assert_eq!(error["data"]["retryable"], retryable, "HTTP {code}");
        assert_eq!(error["data"]["client_message_id"], format!("c-{i}"));
        assert!(error["data"]["message_id"]
            .as_str()
            .unwrap()
            .starts_with("msg_"));
        let shown = error.to_string();
        assert!(
            !shown.contains("top secret") && !shown.contains("internal detail"),
            "{shown}"
        );
    }
}

#[tokio::test]
async fn unknown_model_in_a_400_body_is_model_not_found() {
    let up = Upstream::start().await;
    up.set_models(&["deepseek-v4-flash"]);
    up.push(status(
        400,
        r#"{"error":{"message":"Model Not Exist","type":"invalid_request_error"}}"#,
    ));
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut client = relay.connect("session_model").await;
    client.chat("hi", "conv_1", "c-1").await;
    assert_error(&client.reply().await, "model_not_found");
    // The relay asked for the available ids (to log them).
    assert!(up.requests().iter().any(|r| r.path.ends_with("/models")));
}

#[tokio::test]
async fn transient_failures_are_retried_before_the_first_token() {
    let up = Upstream::start().await;
    up.push(status(503, "{}"));
    up.push(Reply::Status {
        code: 429,
        body: "{}".into(),
        retry_after: Some(0),
    });
    up.push(Reply::Sse(vec![Step::Reset]));
    up.push(answer(&["Recovered"]));
    let mut config = upstream_config(&up.base_url);
    config.upstream.max_attempts = 4;
    let relay = Relay::start(config).await;
    let mut client = relay.connect("session_retry").await;
    client.chat("hi", "conv_r", "c-1").await;
    let frames = client.reply().await;
    assert_eq!(assert_complete(&frames)["data"]["content"], "Recovered");
    assert_eq!(up.chat_requests().len(), 4);
}

#[tokio::test]
async fn retries_give_up_after_max_attempts() {
    let up = Upstream::start().await;
    for _ in 0..3 {
        up.push(status(429, "{}"));
    }
    up.push(answer(&["too late"]));
    let relay = Relay::start(upstream_config(&up.base_url)).await; // max_attempts = 3
    let mut client = relay.connect("session_giveup").await;
    client.chat("hi", "conv_g", "c-1").await;
    assert_error(&client.reply().await, "upstream_rate_limited");
    assert_eq!(up.chat_requests().len(), 3);
}

#[tokio::test]
async fn no_retry_after_the_first_token_reached_the_client() {
    let up = Upstream::start().await;
    up.push(Reply::Sse(vec![
        content("Half an "),
        pause(20),
        Step::Reset,
    ]));
    up.push(answer(&["a retry would duplicate text"]));
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut client = relay.connect("session_reset").await;
    client.chat("hi", "conv_x", "c-1").await;
    let frames = client.reply().await;
    assert_eq!(joined(&frames, "stream_token"), "Half an ");
    assert_error(&frames, "upstream_unavailable");
    assert_eq!(up.chat_requests().len(), 1);
    // Nothing was recorded for the failed exchange: the next question starts fresh.
    client.chat("again", "conv_x", "c-2").await;
    assert_complete(&client.reply().await);
    assert_eq!(
        up.chat_requests()[1].body["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_stall_mid_stream_becomes_upstream_stalled() {
    let up = Upstream::start().await;
    up.push(Reply::Sse(vec![content("Start"), Step::Hang]));
    let relay = Relay::start(upstream_config(&up.base_url)).await; // idle timeout 400 ms
    let mut client = relay.connect("session_stall").await;
    let started = Instant::now();
    client.chat("hi", "conv_s", "c-1").await;
    let frames = client.reply().await;
    assert_eq!(joined(&frames, "stream_token"), "Start");
    assert_error(&frames, "upstream_stalled");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert!(
        up.wait_disconnects(1, Duration::from_secs(2)).await,
        "the stalled request was not dropped"
    );
}

#[tokio::test]
async fn keep_alive_comments_keep_a_slow_stream_alive_but_the_first_token_is_bounded() {
    let up = Upstream::start().await;
    // 600 ms of keep-alives (longer than the 400 ms idle timeout), then the answer.
    let mut steps = Vec::new();
    for _ in 0..6 {
        steps.push(Step::Send(": keep-alive\n\n".into()));
        steps.push(pause(100));
    }
    steps.extend([content("late but fine"), finish("stop"), done()]);
    up.push(Reply::Sse(steps));
    // Only keep-alives, forever.
    let mut forever = Vec::new();
    for _ in 0..100 {
        forever.push(Step::Send(": keep-alive\n\n".into()));
        forever.push(pause(100));
    }
    up.push(Reply::Sse(forever));
    let mut config = upstream_config(&up.base_url);
    config.upstream.first_token_timeout = Duration::from_millis(1_200);
    let relay = Relay::start(config).await;
    let mut client = relay.connect("session_keepalive").await;
    client.chat("hi", "conv_1", "c-1").await;
    assert_eq!(
        assert_complete(&client.reply().await)["data"]["content"],
        "late but fine"
    );
    client.chat("hi", "conv_2", "c-2").await;
    assert_error(&client.reply().await, "upstream_stalled");
}

#[tokio::test]
async fn an_upstream_that_never_answers_is_bounded_by_the_first_token_timeout() {
    let up = Upstream::start().await;
    up.push(Reply::Silent);
    let mut config = upstream_config(&up.base_url);
    config.upstream.first_token_timeout = Duration::from_millis(500);
    config.upstream.idle_timeout = Duration::from_secs(10);
    let relay = Relay::start(config).await;
    let mut client = relay.connect("session_silent").await;
    let started = Instant::now();
    client.chat("hi", "conv_1", "c-1").await;
    assert_error(&client.reply().await, "upstream_stalled");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert!(
        up.wait_disconnects(1, Duration::from_secs(1)).await,
        "the silent request was not dropped"
    );
    assert_eq!(up.chat_requests().len(), 1, "a timeout is not retried");
}

#[tokio::test]
async fn an_upstream_that_cannot_be_reached_is_bounded_by_the_connect_timeout() {
    // A listener whose accept queue is full: the kernel drops further SYNs, so the relay's
    // connect hangs exactly as it would against a black-holed host (all on loopback).
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            fillers.push(s);
        }
    }
    let mut config = upstream_config(&format!("http://{addr}/v1"));
    config.upstream.connect_timeout = Duration::from_millis(200);
    config.upstream.max_attempts = 2;
    let relay = Relay::start(config).await;
    let mut client = relay.connect("session_connect").await;
    let started = Instant::now();
    client.chat("hi", "conv_1", "c-1").await;
    assert_error(&client.reply().await, "upstream_unavailable");
    let elapsed = started.elapsed();
    // Two attempts of 200 ms each, plus a short backoff; far below the 3 s first-token bound.
    assert!(
        elapsed >= Duration::from_millis(400) && elapsed < Duration::from_millis(2_000),
        "{elapsed:?}"
    );
    drop(listener);
}
