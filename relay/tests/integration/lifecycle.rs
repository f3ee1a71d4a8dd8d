//! Lifetimes: a close with 1000 (or no code) and `cancel` drop the upstream request at once,
//! a dropped socket only after the resume grace; one generation
//! per conversation (`busy`); the global upstream cap; graceful shutdown with 1012.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;
use crate::upstream::*;

/// A stream that sends one token and then trickles keep-alives for a long time.
fn slow_stream() -> Reply {
    let mut steps = vec![content("Thinking")];
    for _ in 0..200 {
        steps.push(pause(50));
        steps.push(Step::Send(": keep-alive\n\n".into()));
    }
    steps.extend([finish("stop"), done()]);
    Reply::Sse(steps)
}

#[tokio::test]
async fn client_close_aborts_the_upstream_request() {
    let up = Upstream::start().await;
    up.push(slow_stream());
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut client = relay.connect("session_close").await;
    client.chat("hi", "conv_c", "c-1").await;
    assert_eq!(client.next_json().await["type"], "stream_token");
    let closed_at = Instant::now();
    client.ws.close(None).await.unwrap();
    drop(client);
    assert!(
        up.wait_disconnects(1, Duration::from_secs(2)).await,
        "upstream never saw the disconnect"
    );
    assert!(
        closed_at.elapsed() < Duration::from_millis(500),
        "took {:?}",
        closed_at.elapsed()
    );
    // The slot and the conversation are released.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(relay.state.metrics.streams_active(), 0);
    assert_eq!(
        relay.state.upstream_slots.available_permits(),
        relay.state.config.max_upstream
    );
}

#[tokio::test]
async fn an_abrupt_disconnect_keeps_the_reply_for_the_resume_grace_then_aborts_it() {
    let up = Upstream::start().await;
    up.push(slow_stream());
    let mut config = upstream_config(&up.base_url);
    config.resume.grace = Duration::from_millis(600);
    let relay = Relay::start(config).await;
    let mut client = relay.connect("session_drop").await;
    client.chat("hi", "conv_c", "c-1").await;
    assert_eq!(client.next_json().await["type"], "stream_token");
    let dropped_at = Instant::now();
    drop(client); // TCP closed without a close frame: not a cancel
    assert!(
        !up.wait_disconnects(1, Duration::from_millis(300)).await,
        "a dropped socket aborted the reply at once"
    );
    assert!(up.wait_disconnects(1, Duration::from_secs(3)).await);
    assert!(
        dropped_at.elapsed() >= Duration::from_millis(600),
        "aborted after {:?}",
        dropped_at.elapsed()
    );
}

#[tokio::test]
async fn cancel_stops_the_generation_and_the_upstream_request() {
    let up = Upstream::start().await;
    up.push(slow_stream());
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut client = relay.connect("session_cancel").await;
    client.chat("hi", "conv_c", "c-1").await;
    let first = client.next_json().await;
    let message_id = first["data"]["message_id"].as_str().unwrap().to_owned();
    client
        .send_json(json!({"type": "cancel", "data": {"message_id": message_id}}))
        .await;
    let frames = client.reply().await;
    let error = assert_error(&frames, "cancelled");
    assert_eq!(error["data"]["message_id"], message_id.as_str());
    assert!(
        up.wait_disconnects(1, Duration::from_secs(1)).await,
        "upstream request not dropped"
    );
    // The conversation is free again, and the socket still works.
    up.push(answer(&["next"]));
    client.chat("again", "conv_c", "c-2").await;
    assert_eq!(
        assert_complete(&client.reply().await)["data"]["content"],
        "next"
    );
    // Cancelling something already finished is harmless.
    client
        .send_json(json!({"type": "cancel", "data": {"message_id": message_id}}))
        .await;
    client.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(client.next_json().await["type"], "pong");
}

#[tokio::test]
async fn cancel_by_client_message_id_works_before_the_first_token() {
    let up = Upstream::start().await;
    up.push(Reply::Sse(vec![Step::Hang]));
    let mut config = upstream_config(&up.base_url);
    config.upstream.idle_timeout = Duration::from_secs(5);
    let relay = Relay::start(config).await;
    let mut client = relay.connect("session_cancel2").await;
    client.chat("hi", "conv_c", "my-id-1").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    client
        .send_json(json!({"type": "cancel", "data": {"message_id": "my-id-1"}}))
        .await;
    let error = assert_error(&client.reply().await, "cancelled");
    assert_eq!(error["data"]["client_message_id"], "my-id-1");
    assert!(up.wait_disconnects(1, Duration::from_secs(1)).await);
}

#[tokio::test]
async fn second_message_in_a_busy_conversation_gets_busy() {
    let up = Upstream::start().await;
    up.push(slow_stream());
    up.push(answer(&["other conversation"]));
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut client = relay.connect("session_busy").await;
    client.chat("first", "conv_b", "c-1").await;
    assert_eq!(client.next_json().await["type"], "stream_token");
    client.chat("second", "conv_b", "c-2").await;
    let busy = client.next_json().await;
    assert_eq!(busy["data"]["code"], "busy", "{busy}");
    assert_eq!(busy["data"]["retryable"], true);
    assert_eq!(busy["data"]["client_message_id"], "c-2");
    // Busy is per conversation (and across sockets of the same session), not per socket.
    let mut other_tab = relay.connect("session_busy").await;
    other_tab.chat("from another tab", "conv_b", "c-3").await;
    assert_eq!(other_tab.next_json().await["data"]["code"], "busy");
    other_tab
        .chat("different conversation", "conv_other", "c-4")
        .await;
    assert_complete(&other_tab.reply().await);
    assert_eq!(up.chat_requests().len(), 2);
}

#[tokio::test]
async fn global_upstream_cap_refuses_with_rate_limited() {
    let up = Upstream::start().await;
    up.push(slow_stream());
    up.push(answer(&["after the slot frees"]));
    let mut config = upstream_config(&up.base_url);
    config.max_upstream = 1;
    let relay = Relay::start(config).await;
    let mut a = relay.connect("session_cap_a").await;
    let mut b = relay.connect("session_cap_b").await;
    a.chat("first", "conv_1", "a-1").await;
    assert_eq!(a.next_json().await["type"], "stream_token");
    b.chat("second", "conv_2", "b-1").await;
    let refused = b.next_json().await;
    assert_eq!(refused["data"]["code"], "rate_limited", "{refused}");
    assert_eq!(refused["data"]["retryable"], true);
    a.send_json(json!({"type": "cancel", "data": {"message_id": "a-1"}}))
        .await;
    assert_error(&a.reply().await, "cancelled");
    b.chat("second", "conv_2", "b-2").await;
    assert_complete(&b.reply().await);
}

#[tokio::test]
async fn shutdown_lets_in_flight_streams_finish_then_closes_with_1012() {
    let up = Upstream::start().await;
    up.push(Reply::Sse(vec![
        content("One"),
        pause(300),
        content(" two"),
        finish("stop"),
        done(),
    ]));
    let mut relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut streaming = relay.connect("session_sd1").await;
    let mut idle = relay.connect("session_sd2").await;
    streaming.chat("hi", "conv_s", "c-1").await;
    assert_eq!(streaming.next_json().await["type"], "stream_token");
    relay.begin_shutdown();
    // The idle socket is told and closed at once.
    let notice = idle.next_json().await;
    assert_eq!(notice["data"]["code"], "server_restarting");
    assert_eq!(notice["data"]["retryable"], true);
    assert!(matches!(idle.closed().await, Closed::Code(1012, _)));
    // The streaming socket is told, finishes its reply, then closes.
    let mut frames = Vec::new();
    loop {
        let frame = streaming.next_json().await;
        let end = frame["type"] == "stream_complete";
        frames.push(frame);
        if end {
            break;
        }
    }
    assert!(frames
        .iter()
        .any(|f| f["data"]["code"] == "server_restarting"));
    assert_eq!(assert_complete(&frames)["data"]["content"], "One two");
    assert!(matches!(streaming.closed().await, Closed::Code(1012, _)));
    relay.stop().await;
    assert!(relay.finished());
    // New connections are refused once stopped.
    assert!(tokio::net::TcpStream::connect(relay.addr).await.is_err());
}

#[tokio::test]
async fn shutdown_grace_period_bounds_a_long_stream() {
    let up = Upstream::start().await;
    up.push(slow_stream());
    let mut config = upstream_config(&up.base_url);
    config.shutdown_grace = Duration::from_millis(300);
    let mut relay = Relay::start(config).await;
    let mut client = relay.connect("session_grace").await;
    client.chat("hi", "conv_g", "c-1").await;
    assert_eq!(client.next_json().await["type"], "stream_token");
    let started = Instant::now();
    relay.begin_shutdown();
    assert_eq!(
        client.next_json().await["data"]["code"],
        "server_restarting"
    );
    let end = client.reply().await;
    let error = assert_error(&end, "server_restarting");
    assert!(error["data"]["message_id"].is_string());
    assert!(matches!(client.closed().await, Closed::Code(1012, _)));
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert!(up.wait_disconnects(1, Duration::from_secs(1)).await);
    relay.stop().await;
}
