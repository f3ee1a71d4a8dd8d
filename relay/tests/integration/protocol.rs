//! Frame-level behaviour: ping/pong, malformed frames, unknown types, the 64 KiB limit.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn ping_is_answered_with_pong_echoing_its_data() {
    let relay = Relay::start(offline_config()).await;
    let mut client = relay.connect("session_ping").await;
    client.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(
        client.next_json().await,
        json!({"type": "pong", "data": {}})
    );
    client
        .send_json(json!({"type": "ping", "data": {"ts": 1234}}))
        .await;
    assert_eq!(
        client.next_json().await,
        json!({"type": "pong", "data": {"ts": 1234}})
    );
}

#[tokio::test]
async fn malformed_and_unknown_frames_get_coded_errors_and_the_socket_stays_usable() {
    let relay = Relay::start(offline_config()).await;
    let mut client = relay.connect("session_bad").await;
    client.send_text("this is not json").await;
    let e = client.next_json().await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["data"]["code"], "bad_frame");
    assert_eq!(e["data"]["retryable"], false);
    client
        .send_json(json!({"type": "subscribe", "data": {}}))
        .await;
    assert_eq!(client.next_json().await["data"]["code"], "unknown_type");
    client
        .send_json(json!({"type": "chat_message", "data": {"message": ""}}))
        .await;
    assert_eq!(client.next_json().await["data"]["code"], "bad_frame");
    client.send_binary(vec![1, 2, 3]).await;
    assert_eq!(client.next_json().await["data"]["code"], "bad_frame");
    client.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(client.next_json().await["type"], "pong");
}

#[tokio::test]
async fn frame_over_64_kib_closes_with_1009() {
    let relay = Relay::start(offline_config()).await;
    let mut client = relay.connect("session_big").await;
    let big = "x".repeat(64 * 1024 + 1);
    client
        .send_json(json!({"type": "chat_message", "data": {"message": big}}))
        .await;
    assert!(matches!(client.closed().await, Closed::Code(1009, _)));
    // Just under the limit is fine at the frame level (the message limit answers instead).
    let mut client = relay.connect("session_big2").await;
    let message = "y".repeat(60 * 1024);
    client
        .send_json(json!({"type": "chat_message", "data": {"message": message}}))
        .await;
    let frame = client.next_json().await;
    assert_eq!(frame["data"]["code"], "message_too_large", "{frame}");
}
