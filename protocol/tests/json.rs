//! The JSON shape of every frame, as `PROTOCOL.md` shows it: each frame serialises to exactly
//! this text and reads back to the same value.

use chatwire_protocol::*;
use serde_json::{json, Value};

fn server_round_trip(frame: ServerFrame<'_, Value>, expected: Value) {
    let text = serde_json::to_string(&frame).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        expected,
        "{text}"
    );
    assert_eq!(expected["type"], frame.kind());
    let back: ServerFrame<'_, Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, frame);
}

fn client_round_trip(frame: ClientFrame<'_, Value>, expected: Value) {
    let text = serde_json::to_string(&frame).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        expected,
        "{text}"
    );
    assert_eq!(expected["type"], frame.kind());
    let back: ClientFrame<'_, Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, frame);
}

#[test]
fn client_frames() {
    client_round_trip(
        ClientFrame::Ping(json!({"t": 5})),
        json!({"type": "ping", "data": {"t": 5}}),
    );
    client_round_trip(
        ClientFrame::ChatMessage(ChatRequest {
            message: "Hi".into(),
            conversation_id: Some("conv_1".into()),
            client_message_id: Some("c-1".into()),
        }),
        json!({"type": "chat_message", "data": {"message": "Hi", "conversation_id": "conv_1", "client_message_id": "c-1"}}),
    );
    client_round_trip(
        ClientFrame::ChatMessage(ChatRequest {
            message: "Hi".into(),
            conversation_id: None,
            client_message_id: None,
        }),
        json!({"type": "chat_message", "data": {"message": "Hi"}}),
    );
    client_round_trip(
        ClientFrame::Cancel(CancelRequest {
            message_id: "msg_1".into(),
        }),
        json!({"type": "cancel", "data": {"message_id": "msg_1"}}),
    );
    client_round_trip(
        ClientFrame::Resume(ResumeRequest {
            client_message_id: Some("c-1".into()),
            offset: 7,
            ..ResumeRequest::default()
        }),
        json!({"type": "resume", "data": {"client_message_id": "c-1", "offset": 7}}),
    );
}

#[test]
fn resume_offset_defaults_to_zero() {
    let frame: ClientFrame<'_, Value> =
        serde_json::from_str(r#"{"type":"resume","data":{"conversation_id":"conv_1"}}"#).unwrap();
    let ClientFrame::Resume(resume) = frame else {
        panic!("{frame:?}")
    };
    assert_eq!(resume.offset, 0);
    assert_eq!(resume.target(), Ok(ResumeTarget::Conversation("conv_1")));
}

#[test]
fn token_frames() {
    server_round_trip(
        ServerFrame::StreamToken {
            message_id: "msg_3f2a9c0d1b7e4a55".into(),
            client_message_id: None,
            token: "Hel\"lo".into(),
            seq: 0,
            offset: 2,
        },
        json!({"type": "stream_token", "data": {"message_id": "msg_3f2a9c0d1b7e4a55", "token": "Hel\"lo", "seq": 0, "offset": 2}}),
    );
    server_round_trip(
        ServerFrame::ReasoningToken {
            message_id: "m".into(),
            client_message_id: Some("c-1".into()),
            token: "The user greets.".into(),
            seq: 0,
            offset: 1,
        },
        json!({"type": "reasoning_token", "data": {"message_id": "m", "client_message_id": "c-1", "token": "The user greets.", "seq": 0, "offset": 1}}),
    );
}

#[test]
fn terminal_frames() {
    let usage = json!({"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7});
    let complete = ServerFrame::StreamComplete {
        message_id: "m".into(),
        conversation_id: "conv_1".into(),
        client_message_id: Some("c-1".into()),
        content: "Hello!".into(),
        finish_reason: "stop".into(),
        usage: Some(usage.clone()),
        offset: 4,
    };
    assert!(complete.is_terminal());
    server_round_trip(
        complete,
        json!({"type": "stream_complete", "data": {"message_id": "m", "conversation_id": "conv_1", "client_message_id": "c-1", "content": "Hello!", "finish_reason": "stop", "usage": usage, "offset": 4}}),
    );
    server_round_trip(
        ServerFrame::StreamComplete {
            message_id: "m".into(),
            conversation_id: "c".into(),
            client_message_id: None,
            content: "hi".into(),
            finish_reason: "length".into(),
            usage: None,
            offset: 2,
        },
        json!({"type": "stream_complete", "data": {"message_id": "m", "conversation_id": "c", "content": "hi", "finish_reason": "length", "offset": 2}}),
    );
    server_round_trip(
        ServerFrame::ChatMessage {
            message_id: "m".into(),
            role: Role::Assistant,
            content: "Whole answer".into(),
            conversation_id: "c".into(),
            client_message_id: None,
            offset: 1,
        },
        json!({"type": "chat_message", "data": {"message_id": "m", "role": "assistant", "content": "Whole answer", "conversation_id": "c", "offset": 1}}),
    );
    server_round_trip(
        ServerFrame::error(ErrorCode::Cancelled, Some("m"), Some("c-1"), Some(3)),
        json!({"type": "error", "data": {"code": "cancelled", "message": "The reply was cancelled.", "message_id": "m", "client_message_id": "c-1", "retryable": false, "offset": 3}}),
    );
}

#[test]
fn error_frames_outside_a_generation_have_no_ids() {
    server_round_trip(
        ServerFrame::error(ErrorCode::Busy, None, None, None),
        json!({"type": "error", "data": {"code": "busy", "message": "This conversation is still answering; cancel it or wait for it to finish.", "retryable": true}}),
    );
}

#[test]
fn pong_and_resumed() {
    server_round_trip(
        ServerFrame::Pong(json!({})),
        json!({"type": "pong", "data": {}}),
    );
    server_round_trip(
        ServerFrame::Resumed {
            message_id: Some("m".into()),
            client_message_id: Some("c-1".into()),
            conversation_id: Some("conv_1".into()),
            offset: 12,
            recovered: true,
        },
        json!({"type": "resumed", "data": {"message_id": "m", "client_message_id": "c-1", "conversation_id": "conv_1", "offset": 12, "recovered": true}}),
    );
    server_round_trip(
        ServerFrame::Resumed {
            message_id: None,
            client_message_id: None,
            conversation_id: Some("conv_1".into()),
            offset: 0,
            recovered: false,
        },
        json!({"type": "resumed", "data": {"conversation_id": "conv_1", "offset": 0, "recovered": false}}),
    );
}

#[test]
fn every_error_code_serialises_to_its_wire_name() {
    for code in ErrorCode::ALL {
        assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        let back: ErrorCode = serde_json::from_value(json!(code.as_str())).unwrap();
        assert_eq!(back, code);
    }
}

#[test]
fn unknown_types_and_codes_do_not_decode() {
    assert!(
        serde_json::from_str::<ClientFrame<'_, Value>>(r#"{"type":"subscribe","data":{}}"#)
            .is_err()
    );
    assert!(serde_json::from_str::<ErrorCode>(r#""no_such_code""#).is_err());
}
