//! The `chatwire-protocol` crate's serde types: every frame survives a trip through JSON
//! text, and the relay decodes what the types encode.
//!
//! Input: byte 0 picks the mode, the rest is its material.
//!
//! - `S` / `C` / `E`: the rest is JSON text read as a `ServerFrame`, a `ClientFrame` or an
//!   `ErrorCode`. What is accepted serialises, reads back equal, and serialises again to
//!   the same text; the text's `type` is the frame's `kind()`.
//! - anything else: the rest builds a frame field by field (any strings, numbers, codes,
//!   absent or present optional fields, JSON values up to a small depth). A server frame
//!   reads back equal from its JSON, whose `type` and `offset` match `kind()` and
//!   `offset()`; a client frame reads back equal, and the relay's decoder accepts it as the
//!   same frame exactly when the protocol's rules (`check`, `target`) pass.
//!
//! Not generated: `usage: Some(null)` in `stream_complete`. It is written as `"usage":null`,
//! which reads back as absent; the relay never sends it (the chunk decoder drops a null
//! usage, which the `sse_stream` and `openai_chunk` targets check).

#![no_main]

use std::borrow::Cow;

use chatwire_protocol::{
    close, CancelRequest, ChatRequest, ClientFrame, ErrorCode, ResumeRequest, Role, ServerFrame,
};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Number, Value};

type Server = ServerFrame<'static, Value>;
type Client = ClientFrame<'static, Value>;

fuzz_target!(|data: &[u8]| {
    let [mode, rest @ ..] = data else {
        return;
    };
    match mode {
        b'S' => {
            text_round_trip::<Server>(rest, |f| Some(f.kind()));
        }
        b'C' => {
            text_round_trip::<Client>(rest, |f| Some(f.kind()));
        }
        b'E' => {
            if let Some(code) = text_round_trip::<ErrorCode>(rest, |_| None) {
                assert_eq!(ErrorCode::from_wire(code.as_str()), Some(code));
                assert_eq!(ErrorCode::ALL[code.index()], code);
                assert!(!code.message().is_empty());
            }
        }
        _ => {
            let mut u = Unstructured::new(rest);
            if let Ok(frame) = server_frame(&mut u) {
                server_round_trip(&frame);
            }
            if let Ok(frame) = client_frame(&mut u) {
                client_round_trip(&frame);
            }
            if let Ok(code) = u.arbitrary::<u16>() {
                // Only the refusals forbid reconnecting; everything else is worth retrying.
                let refusal = [close::UNAUTHORIZED, close::FORBIDDEN, close::POLICY];
                assert_eq!(close::is_refusal(code), refusal.contains(&code));
            }
        }
    }
});

/// JSON text → value → text → value: equal values, identical texts.
fn text_round_trip<T>(bytes: &[u8], kind: impl Fn(&T) -> Option<&'static str>) -> Option<T>
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let text = std::str::from_utf8(bytes).ok()?;
    let value: T = serde_json::from_str(text).ok()?;
    let written = serde_json::to_string(&value).expect("serialises");
    let again: T = serde_json::from_str(&written)
        .unwrap_or_else(|e| panic!("{written} does not read back: {e} (from {value:?})"));
    assert_eq!(again, value, "{written}");
    assert_eq!(serde_json::to_string(&again).expect("serialises"), written);
    if let Some(kind) = kind(&value) {
        let json: Value = serde_json::from_str(&written).expect("JSON");
        assert_eq!(json["type"], kind, "{written}");
    }
    Some(value)
}

fn server_round_trip(frame: &Server) {
    let written = serde_json::to_string(frame).expect("serialises");
    let back: Server = serde_json::from_str(&written)
        .unwrap_or_else(|e| panic!("{written} does not read back: {e}"));
    assert_eq!(&back, frame, "{written}");
    let json: Value = serde_json::from_str(&written).expect("JSON");
    assert_eq!(json["type"], frame.kind(), "{written}");
    match frame {
        ServerFrame::Pong(_) => {}
        ServerFrame::Resumed { offset, .. } => assert_eq!(json["data"]["offset"], *offset),
        _ => assert_eq!(json["data"]["offset"].as_u64(), frame.offset(), "{written}"),
    }
    if let ServerFrame::Error { code, .. } = frame {
        assert_eq!(json["data"]["code"], code.as_str());
    }
}

fn client_round_trip(frame: &Client) {
    let written = serde_json::to_string(frame).expect("serialises");
    let back: Client = serde_json::from_str(&written)
        .unwrap_or_else(|e| panic!("{written} does not read back: {e}"));
    assert_eq!(&back, frame, "{written}");
    let relay = chatwire_relay::protocol::decode(&written);
    let rules_pass = match frame {
        ClientFrame::ChatMessage(request) => request.check().is_ok(),
        ClientFrame::Resume(request) => request.target().is_ok(),
        ClientFrame::Ping(_) | ClientFrame::Cancel(_) => true,
    };
    match relay {
        Ok(decoded) if rules_pass => match (frame, &decoded) {
            (ClientFrame::Ping(Value::Null), ClientFrame::Ping(data)) => {
                assert_eq!(
                    data,
                    &Value::Object(Map::new()),
                    "null ping data pongs {{}}"
                )
            }
            _ => assert_eq!(&decoded, frame, "{written}"),
        },
        Ok(decoded) => panic!("the relay accepts {decoded:?}, which breaks the rules"),
        Err(e) if rules_pass => panic!("the relay refuses {written}: {e}"),
        Err(e) => assert_eq!(e.code(), ErrorCode::BadFrame, "{written}"),
    }
}

fn text<'a>(u: &mut Unstructured<'_>) -> Result<Cow<'a, str>> {
    Ok(Cow::Owned(u.arbitrary::<String>()?))
}

fn maybe_text<'a>(u: &mut Unstructured<'_>) -> Result<Option<Cow<'a, str>>> {
    Ok(if u.arbitrary()? { Some(text(u)?) } else { None })
}

fn code(u: &mut Unstructured<'_>) -> Result<ErrorCode> {
    u.choose(&ErrorCode::ALL).copied()
}

/// Any JSON value, nested at most `depth` deep.
fn json(u: &mut Unstructured<'_>, depth: u32) -> Result<Value> {
    let pick = if depth == 0 {
        u.int_in_range(0..=5)?
    } else {
        u.int_in_range(0..=7)?
    };
    Ok(match pick {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<u64>()?),
        3 => Value::from(u.arbitrary::<i64>()?),
        4 => Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        5 => Value::String(u.arbitrary()?),
        6 => {
            let len = u.int_in_range(0..=4)?;
            Value::Array(
                (0..len)
                    .map(|_| json(u, depth - 1))
                    .collect::<Result<_>>()?,
            )
        }
        _ => {
            let len = u.int_in_range(0..=4)?;
            let mut map = Map::new();
            for _ in 0..len {
                map.insert(u.arbitrary()?, json(u, depth - 1)?);
            }
            Value::Object(map)
        }
    })
}

fn server_frame(u: &mut Unstructured<'_>) -> Result<Server> {
    Ok(match u.int_in_range(0..=6)? {
        0 => ServerFrame::Pong(json(u, 3)?),
        1 => ServerFrame::StreamToken {
            message_id: text(u)?,
            client_message_id: maybe_text(u)?,
            token: text(u)?,
            seq: u.arbitrary()?,
            offset: u.arbitrary()?,
        },
        2 => ServerFrame::ReasoningToken {
            message_id: text(u)?,
            client_message_id: maybe_text(u)?,
            token: text(u)?,
            seq: u.arbitrary()?,
            offset: u.arbitrary()?,
        },
        3 => ServerFrame::StreamComplete {
            message_id: text(u)?,
            conversation_id: text(u)?,
            client_message_id: maybe_text(u)?,
            content: text(u)?,
            finish_reason: text(u)?,
            usage: if u.arbitrary()? {
                Some(json(u, 2)?).filter(|usage| !usage.is_null())
            } else {
                None
            },
            offset: u.arbitrary()?,
        },
        4 => ServerFrame::ChatMessage {
            message_id: text(u)?,
            role: Role::Assistant,
            content: text(u)?,
            conversation_id: text(u)?,
            client_message_id: maybe_text(u)?,
            offset: u.arbitrary()?,
        },
        5 => {
            let code = code(u)?;
            if u.arbitrary()? {
                ServerFrame::error(code, None, None, None)
            } else {
                ServerFrame::Error {
                    code,
                    message: text(u)?,
                    message_id: maybe_text(u)?,
                    client_message_id: maybe_text(u)?,
                    retryable: u.arbitrary()?,
                    offset: u.arbitrary()?,
                }
            }
        }
        _ => ServerFrame::Resumed {
            message_id: maybe_text(u)?,
            client_message_id: maybe_text(u)?,
            conversation_id: maybe_text(u)?,
            offset: u.arbitrary()?,
            recovered: u.arbitrary()?,
        },
    })
}

fn client_frame(u: &mut Unstructured<'_>) -> Result<Client> {
    Ok(match u.int_in_range(0..=3)? {
        0 => ClientFrame::Ping(json(u, 3)?),
        1 => ClientFrame::ChatMessage(ChatRequest {
            message: text(u)?,
            conversation_id: maybe_text(u)?,
            client_message_id: maybe_text(u)?,
        }),
        2 => ClientFrame::Cancel(CancelRequest {
            message_id: text(u)?,
        }),
        _ => ClientFrame::Resume(ResumeRequest {
            message_id: maybe_text(u)?,
            client_message_id: maybe_text(u)?,
            conversation_id: maybe_text(u)?,
            offset: u.arbitrary()?,
        }),
    })
}
