//! Hostile input from a client, over real sockets: bytes that are not UTF-8, binary frames,
//! JSON nested 100,000 deep, strings of a million characters, numbers no type can hold and
//! fields of the wrong type. Each gets its documented answer (an error frame or a close
//! code), the relay never panics, and the socket (or the next one) keeps working.
//! RELIABILITY.md lists each case with its result.

use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

/// A relay that accepts frames of up to 4 MiB, so the JSON parser (not the 64 KiB frame
/// limit) meets the deep and long inputs.
async fn relay_with_large_frames() -> Relay {
    let mut config = offline_config();
    config.max_frame_bytes = 4 * 1024 * 1024;
    Relay::start(config).await
}

/// Sends raw bytes as one WebSocket frame of the given opcode (`fin`: the last fragment).
async fn send_raw(client: &mut Client, opcode: Data, payload: &[u8], fin: bool) {
    let frame = Frame::message(payload.to_vec(), OpCode::Data(opcode), fin);
    client.ws.send(Message::Frame(frame)).await.unwrap();
}

/// Sends `text` and expects an `error` frame with `code` (and no generation ids).
async fn expect_error(client: &mut Client, text: &str, code: &str) {
    client.send_text(text).await;
    let frame = client.next_json().await;
    let shown: String = text.chars().take(120).collect();
    assert_eq!(frame["type"], "error", "{shown} got {frame}");
    assert_eq!(frame["data"]["code"], code, "{shown} got {frame}");
    assert!(frame["data"]["message_id"].is_null(), "{frame}");
}

/// The socket still answers a ping.
async fn still_usable(client: &mut Client) {
    client
        .send_json(json!({"type": "ping", "data": {"n": 1}}))
        .await;
    assert_eq!(
        client.next_json().await,
        json!({"type": "pong", "data": {"n": 1}})
    );
}

/// The WebSocket frames of one message: opcode, payload, whether it is the last.
type Fragments = Vec<(Data, &'static [u8], bool)>;

fn nested(depth: usize, open: &str, inner: &str, close: &str) -> String {
    let mut text = String::with_capacity(depth * (open.len() + close.len()) + inner.len());
    for _ in 0..depth {
        text.push_str(open);
    }
    text.push_str(inner);
    for _ in 0..depth {
        text.push_str(close);
    }
    text
}

#[tokio::test]
async fn invalid_utf8_in_a_text_frame_closes_with_1007() {
    let relay = Relay::start(offline_config()).await;
    let cases: [(&str, Fragments); 5] = [
        (
            "a byte that starts no character",
            vec![(Data::Text, b"{\"type\":\"ping\",\"data\":\"\xff\"}", true)],
        ),
        (
            "an overlong encoding of '/'",
            vec![(
                Data::Text,
                b"{\"type\":\"ping\",\"data\":\"\xc0\xaf\"}",
                true,
            )],
        ),
        (
            "a surrogate encoded as UTF-8",
            vec![(
                Data::Text,
                b"{\"type\":\"ping\",\"data\":\"\xed\xa0\x80\"}",
                true,
            )],
        ),
        (
            "a frame that ends inside a character",
            vec![(Data::Text, b"{\"type\":\"ping\",\"data\":\"\xe2\x82", true)],
        ),
        (
            "a valid first fragment, then a fragment that is not UTF-8",
            vec![
                (Data::Text, b"{\"type\":\"ping\",", false),
                (Data::Continue, b"\"data\":\"\xf8\x88\x80\x80\x80\"}", true),
            ],
        ),
    ];
    for (i, (case, fragments)) in cases.into_iter().enumerate() {
        let mut client = relay.connect(&format!("session_utf8_{i}")).await;
        still_usable(&mut client).await;
        for (opcode, payload, fin) in fragments {
            send_raw(&mut client, opcode, payload, fin).await;
        }
        match client.closed().await {
            Closed::Code(1007, reason) => assert!(!reason.is_empty(), "{case}"),
            other => panic!("{case}: {other:?}"),
        }
    }
    // The relay goes on serving.
    still_usable(&mut relay.connect("session_utf8_after").await).await;
    assert!(relay
        .state
        .metrics
        .render()
        .contains("chatwire_errors_total{code=\"bad_frame\"} 5\n"));
}

#[tokio::test]
async fn binary_frames_get_bad_frame_and_the_socket_stays_usable() {
    let relay = Relay::start(offline_config()).await;
    let mut client = relay.connect("session_binary").await;
    let ping = br#"{"type":"ping","data":{}}"#.to_vec();
    for payload in [Vec::new(), ping, vec![0xff; 60 * 1024]] {
        client.send_binary(payload).await;
        let frame = client.next_json().await;
        assert_eq!(frame["data"]["code"], "bad_frame", "{frame}");
    }
    still_usable(&mut client).await;
}

#[tokio::test]
async fn json_nested_100_000_deep_is_bad_frame_without_a_stack_overflow() {
    let relay = relay_with_large_frames().await;
    let mut client = relay.connect("session_deep").await;
    let deep = 100_000;
    let cases = [
        format!(r#"{{"type":"ping","data":{}}}"#, nested(deep, "[", "", "]")),
        format!(
            r#"{{"type":"ping","data":{}}}"#,
            nested(deep, r#"{"a":"#, "1", "}")
        ),
        format!(
            r#"{{"type":"chat_message","data":{{"message":"hi","conversation_id":{}}}}}"#,
            nested(deep, "[", "", "]")
        ),
        format!(r#"{{"type":{}}}"#, nested(deep, "[", r#""ping""#, "]")),
        nested(deep, "[", "", "]"),
        nested(deep, r#"{"type":"#, r#""ping""#, "}"),
        // Unbalanced: 100,000 opened, none closed.
        format!(r#"{{"type":"ping","data":{}"#, "[".repeat(deep)),
    ];
    for text in &cases {
        expect_error(&mut client, text, "bad_frame").await;
    }
    // Nesting the parser builds stops at 128 levels; 100 levels are an ordinary ping.
    let data: Value = serde_json::from_str(&nested(100, "[", "7", "]")).unwrap();
    client
        .send_json(json!({"type": "ping", "data": data}))
        .await;
    assert_eq!(
        client.next_json().await,
        json!({"type": "pong", "data": data})
    );
    // A field the relay does not read is skipped without being built (no depth to
    // overflow): the ping is answered.
    client
        .send_text(format!(
            r#"{{"type":"ping","extra":{}}}"#,
            nested(deep, "[", "", "]")
        ))
        .await;
    assert_eq!(
        client.next_json().await,
        json!({"type": "pong", "data": {}})
    );
    still_usable(&mut client).await;

    // With the default 64 KiB frame limit, 100,000 levels do not fit in a frame.
    let relay = Relay::start(offline_config()).await;
    let mut client = relay.connect("session_deep_default").await;
    client.send_text(&cases[0]).await;
    assert!(matches!(client.closed().await, Closed::Code(1009, _)));
}

#[tokio::test]
async fn a_string_of_1_000_000_characters() {
    let million = "é".repeat(1_000_000);
    // Default limits: the frame (2 MB of UTF-8) is over 64 KiB, so the socket closes with
    // 1009 before any JSON is read.
    let relay = Relay::start(offline_config()).await;
    let mut client = relay.connect("session_million").await;
    client.chat(&million, "conv_1", "c-1").await;
    assert!(matches!(client.closed().await, Closed::Code(1009, _)));
    still_usable(&mut relay.connect("session_million_after").await).await;

    // Frames of up to 4 MiB: the message limit (16,000 characters) answers instead.
    let relay = relay_with_large_frames().await;
    let mut client = relay.connect("session_million_large").await;
    client.chat(&million, "conv_1", "c-1").await;
    let frame = client.next_json().await;
    assert_eq!(
        frame["data"]["code"], "message_too_large",
        "{}",
        frame["type"]
    );
    assert_eq!(frame["data"]["client_message_id"], "c-1");
    // As an id (at most 128 bytes): bad_frame.
    for field in ["conversation_id", "client_message_id"] {
        let text = json!({"type": "chat_message", "data": {"message": "hi", field: million}});
        expect_error(&mut client, &text.to_string(), "bad_frame").await;
    }
    let text = json!({"type": "resume", "data": {"message_id": million, "offset": 0}});
    expect_error(&mut client, &text.to_string(), "bad_frame").await;
    // As a frame type: unknown_type.
    let text = json!({"type": million, "data": {}});
    expect_error(&mut client, &text.to_string(), "unknown_type").await;
    // As a ping's data: echoed whole, as the protocol says.
    client
        .send_json(json!({"type": "ping", "data": million}))
        .await;
    let pong = client.next_json().await;
    assert_eq!(pong["type"], "pong");
    assert_eq!(
        pong["data"].as_str().map(|s| s.chars().count()),
        Some(1_000_000)
    );
    // The conversation was never started: a normal message goes through.
    client.chat("hello", "conv_1", "c-2").await;
    assert_complete(&client.reply().await);
}

#[tokio::test]
async fn numbers_no_type_can_hold_are_bad_frame() {
    let relay = relay_with_large_frames().await;
    let mut client = relay.connect("session_numbers").await;
    let digits = "9".repeat(100_000);
    let cases = [
        r#"{"type":"ping","data":{"t":1e400}}"#.to_owned(),
        r#"{"type":"ping","data":{"t":-1e400}}"#.to_owned(),
        format!(r#"{{"type":"ping","data":{{"t":{digits}}}}}"#),
        format!(r#"{{"type":"ping","data":{{"t":-{digits}.5}}}}"#),
        r#"{"type":"resume","data":{"message_id":"m","offset":18446744073709551616}}"#.to_owned(),
        format!(r#"{{"type":"resume","data":{{"message_id":"m","offset":{digits}}}}}"#),
        r#"{"type":"resume","data":{"message_id":"m","offset":1e300}}"#.to_owned(),
        r#"{"type":"resume","data":{"message_id":"m","offset":-1}}"#.to_owned(),
        r#"{"type":"resume","data":{"message_id":"m","offset":1.5}}"#.to_owned(),
        r#"{"type":"ping","data":{"t":NaN}}"#.to_owned(),
        r#"{"type":"ping","data":{"t":Infinity}}"#.to_owned(),
    ];
    for text in &cases {
        expect_error(&mut client, text, "bad_frame").await;
    }
    // The largest offset there is, u64::MAX, is a number like any other: not recovered.
    client
        .send_text(r#"{"type":"resume","data":{"message_id":"m","offset":18446744073709551615}}"#)
        .await;
    let frame = client.next_json().await;
    assert_eq!(frame["type"], "resumed", "{frame}");
    assert_eq!(frame["data"]["offset"], u64::MAX);
    assert_eq!(frame["data"]["recovered"], false);
    still_usable(&mut client).await;
}

#[tokio::test]
async fn fields_of_the_wrong_type_are_bad_frame() {
    let relay = Relay::start(offline_config()).await;
    let mut client = relay.connect("session_types").await;
    let cases = [
        json!({"type": 7, "data": {}}),
        json!({"type": null}),
        json!({"type": ["ping"]}),
        json!({"data": {}}),
        json!("ping"),
        json!(null),
        json!({"type": "chat_message", "data": "hi"}),
        json!({"type": "chat_message", "data": {"message": 5}}),
        json!({"type": "chat_message", "data": {"message": ["hi"]}}),
        json!({"type": "chat_message", "data": {"message": null}}),
        json!({"type": "chat_message", "data": {"message": "hi", "conversation_id": 5}}),
        json!({"type": "chat_message", "data": {"message": "hi", "client_message_id": {}}}),
        json!({"type": "chat_message", "data": {"message": "hi", "conversation_id": true}}),
        json!({"type": "cancel", "data": {"message_id": 1}}),
        json!({"type": "cancel", "data": {}}),
        json!({"type": "cancel", "data": "msg_1"}),
        json!({"type": "resume", "data": {"message_id": "m", "offset": "3"}}),
        json!({"type": "resume", "data": {"message_id": "m", "offset": true}}),
        json!({"type": "resume", "data": {"message_id": 5, "offset": 0}}),
        json!({"type": "resume", "data": {"conversation_id": ["c"], "offset": 0}}),
    ];
    for case in &cases {
        expect_error(&mut client, &case.to_string(), "bad_frame").await;
    }
    // A key given twice, and text after the frame.
    expect_error(
        &mut client,
        r#"{"type":"ping","type":"chat_message","data":{}}"#,
        "bad_frame",
    )
    .await;
    expect_error(
        &mut client,
        r#"{"type":"ping"} {"type":"ping"}"#,
        "bad_frame",
    )
    .await;
    still_usable(&mut client).await;
    client.chat("still here", "conv_1", "c-1").await;
    assert_complete(&client.reply().await);
}
