//! Incoming frames: parse, keep the text of streamed replies, call the callback for the
//! frame's `type`.
//!
//! This is the per-frame path, so frames stay JS values: `JSON.parse` runs on the JS string
//! and fields are read with `Reflect.get`. A token is never copied into wasm memory (a
//! serde decode into Rust strings would copy every one, twice).

use wasm_bindgen::prelude::*;

use super::callbacks::{invoke, Slot};
use super::js::{error_frame, get, parse_json, set};
use super::shared::{emit, Inner, JsText, Shared};
use crate::core::error::ErrorCode;
use crate::core::frame::FrameKind;

/// Property names and `type` strings read on every frame, made into JS strings once per
/// manager rather than once per frame.
pub struct FrameKeys {
    kind: JsValue,
    data: JsValue,
    message_id: JsValue,
    token: JsValue,
    content: JsValue,
    /// The `type` of each of [`FrameKind::TYPED`].
    types: [JsValue; 5],
}

impl FrameKeys {
    pub fn new() -> FrameKeys {
        FrameKeys {
            kind: "type".into(),
            data: "data".into(),
            message_id: "message_id".into(),
            token: "token".into(),
            content: "content".into(),
            types: FrameKind::TYPED.map(|(_, name)| name.into()),
        }
    }
}

/// A text (or binary) frame arrived with `data`.
pub fn on_message(shared: &Shared, data: JsValue) {
    let dispatch = {
        let mut guard = shared.borrow_mut();
        let inner = &mut *guard;
        if let Some(heartbeat) = &mut inner.heartbeat {
            heartbeat.frame_received();
        }
        decode(&inner.keys, &data).map(|(kind, frame)| {
            accumulate(inner, kind, &frame);
            let slot = Slot::for_frame(kind);
            (slot, frame, inner.callbacks.get(slot))
        })
    };
    match dispatch {
        Some((slot, frame, callback)) => invoke(callback, slot, &frame),
        None => emit(
            shared,
            Slot::Error,
            &error_frame(ErrorCode::BadFrame, Some(&data)),
        ),
    }
}

/// Parses a frame into `(kind, object)`; `None` for anything that is not a JSON object with
/// a string `type` (binary frames included: `JSON.parse` refuses them).
fn decode(keys: &FrameKeys, data: &JsValue) -> Option<(FrameKind, JsValue)> {
    if !data.is_string() {
        return None;
    }
    let frame = parse_json(data).ok()?;
    let kind = get(&frame, &keys.kind);
    // Compare first: a `stream_token` frame then needs no other check.
    match FrameKind::classify(|index, _| kind == keys.types[index]) {
        FrameKind::Unknown if !kind.is_string() => None,
        known => Some((known, frame)),
    }
}

/// Keeps the text of streamed replies; fills `data.content` on `stream_complete` when the
/// server left it out.
fn accumulate(inner: &mut Inner, kind: FrameKind, frame: &JsValue) {
    let keys = &inner.keys;
    let data = match kind {
        FrameKind::StreamToken | FrameKind::StreamComplete => get(frame, &keys.data),
        _ => return,
    };
    let message_id = get(&data, &keys.message_id);
    if message_id.is_undefined() {
        return;
    }
    if kind == FrameKind::StreamToken {
        let token = get(&data, &keys.token);
        if token.is_string() {
            inner.streams.push(&message_id, &JsText(token));
        }
        return;
    }
    let text = inner.streams.finish(&message_id);
    if get(&data, &keys.content).is_undefined() {
        let text = text.map_or_else(|| JsValue::from_str(""), |text| text.0);
        set(&data, "content", &text);
    }
}
