//! Incoming frames: parse, track the replies in flight (dropping frames already applied),
//! call the callback for the frame's `type`.
//!
//! This is the per-frame path, so frames stay JS values: `JSON.parse` runs on the JS string
//! and fields are read with `Reflect.get`. A token is never copied into wasm memory (a
//! serde decode into Rust strings would copy every one, twice).

use alloc::vec::Vec;
use core::mem;

use wasm_bindgen::prelude::*;

use super::callbacks::{invoke, Slot};
use super::connection;
use super::js::{error_frame, get, parse_json, set};
use super::shared::{emit, Inner, JsText, Shared};
use crate::core::error::ErrorCode;
use crate::core::frame::FrameKind;
use crate::core::generations::{Generation, Ids, Verdict};

/// How long replies the relay could not resume wait for its `stream_expired` error (sent
/// right after `resumed`) before they are reported as `stream_lost`.
const LOST_REPORT_DELAY_MS: f64 = 100.0;

/// The properties read on incoming frames.
#[derive(Clone, Copy)]
enum Field {
    Type,
    Data,
    MessageId,
    ClientMessageId,
    ConversationId,
    Token,
    Offset,
    Content,
    Code,
    Recovered,
}

impl Field {
    /// Each field's property name, in the order of the variants. One table made into JS
    /// strings by one loop: ten `"name".into()` calls, each inlined with its own pointer and
    /// length, cost 63 B gzip more (measured on the package).
    const NAMES: [&'static str; 10] = [
        "type",
        "data",
        "message_id",
        "client_message_id",
        "conversation_id",
        "token",
        "offset",
        "content",
        "code",
        "recovered",
    ];
}

/// Property names and `type` strings read on every frame, made into JS strings once per
/// manager rather than once per frame.
pub struct FrameKeys {
    /// The name of each [`Field`], indexed by the field.
    fields: [JsValue; Field::NAMES.len()],
    /// The `type` of each of [`FrameKind::TYPED`].
    types: [JsValue; FrameKind::TYPED.len()],
}

impl FrameKeys {
    pub fn new() -> FrameKeys {
        FrameKeys {
            fields: Field::NAMES.map(JsValue::from_str),
            types: FrameKind::TYPED.map(|(_, name)| name.into()),
        }
    }

    /// The JS string of `field`'s property name.
    fn name(&self, field: Field) -> &JsValue {
        &self.fields[field as usize]
    }
}

/// A text (or binary) frame arrived with `data`.
pub fn on_message(shared: &Shared, data: JsValue) {
    let decoded = {
        let mut inner = shared.borrow_mut();
        if let Some(heartbeat) = &mut inner.heartbeat {
            heartbeat.frame_received();
        }
        decode(&inner.keys, &data)
    };
    let Some((kind, frame)) = decoded else {
        let error = error_frame(ErrorCode::BadFrame, &[("raw", Some(&data))]);
        emit(shared, Slot::Error, &error);
        return;
    };
    if kind != FrameKind::Error && !shared.borrow().lost.is_empty() {
        // The frame after `resumed` is not the relay's `stream_expired`: the replies it did
        // not recover are lost.
        report_lost(shared);
    }
    let (verdict, slot, callback) = {
        let mut inner = shared.borrow_mut();
        let verdict = track(&mut inner, kind, &frame);
        let slot = Slot::for_frame(kind);
        (verdict, slot, inner.callbacks.get(slot))
    };
    if verdict == Verdict::Apply {
        invoke(callback, slot, &frame);
    }
    if kind == FrameKind::Resumed && !shared.borrow().lost.is_empty() {
        let timer = connection::after(shared, LOST_REPORT_DELAY_MS, report_lost);
        shared.borrow_mut().lost_timer = Some(timer);
    }
}

/// Parses a frame into `(kind, object)`; `None` for anything that is not a JSON object with
/// a string `type` (binary frames included).
fn decode(keys: &FrameKeys, data: &JsValue) -> Option<(FrameKind, JsValue)> {
    if !data.is_string() {
        return None;
    }
    let frame = parse_json(data).ok()?;
    let kind = get(&frame, keys.name(Field::Type));
    // Compare first: a `stream_token` frame then needs no other check.
    match FrameKind::classify(|index, _| kind == keys.types[index]) {
        FrameKind::Unknown if !kind.is_string() => None,
        known => Some((known, frame)),
    }
}

/// Keeps track of the replies in flight and says whether the frame is new. Fills
/// `data.content` on `stream_complete` when the server left it out, and on the relay's
/// `stream_expired` error with what was received.
fn track(inner: &mut Inner, kind: FrameKind, frame: &JsValue) -> Verdict {
    let keys = &inner.keys;
    let data = match kind {
        FrameKind::Pong | FrameKind::Unknown => return Verdict::Apply,
        _ => get(frame, keys.name(Field::Data)),
    };
    let field = |key: &JsValue| Some(get(&data, key)).filter(|value| value.is_string());
    let offset = get(&data, keys.name(Field::Offset))
        .as_f64()
        .map(|offset| offset as u64);
    let message_id = field(keys.name(Field::MessageId));
    match kind {
        FrameKind::StreamToken | FrameKind::ReasoningToken => {
            let Some(message_id) = message_id else {
                return Verdict::Apply;
            };
            let token = match kind {
                FrameKind::StreamToken => field(keys.name(Field::Token)).map(JsText),
                _ => None,
            };
            // Only a generation's first frame names the chat it answers.
            let client_message_id = match offset {
                Some(1) => field(keys.name(Field::ClientMessageId)),
                _ => None,
            };
            inner.generations.token(
                &message_id,
                offset,
                token.as_ref(),
                client_message_id.as_ref(),
            )
        }
        FrameKind::Resumed => {
            let (client_message_id, conversation_id) = (
                field(keys.name(Field::ClientMessageId)),
                field(keys.name(Field::ConversationId)),
            );
            let ids = Ids {
                message_id: message_id.as_ref(),
                client_message_id: client_message_id.as_ref(),
                conversation_id: conversation_id.as_ref(),
            };
            let recovered = get(&data, keys.name(Field::Recovered)) == JsValue::TRUE;
            if let Some(lost) = inner.generations.resumed(ids, recovered) {
                inner.lost.push(lost);
            }
            Verdict::Apply
        }
        _ => {
            let client_message_id = field(keys.name(Field::ClientMessageId));
            let ids = Ids {
                message_id: message_id.as_ref(),
                client_message_id: client_message_id.as_ref(),
                conversation_id: None,
            };
            if kind == FrameKind::Error && take_expired(inner, &data, ids) {
                return Verdict::Apply;
            }
            if ids.message_id.is_none() && ids.client_message_id.is_none() {
                return Verdict::Apply;
            }
            let (verdict, text) = inner.generations.finish(ids, offset);
            let keys = &inner.keys;
            // `== UNDEFINED` (`===`, through the import the frame comparisons use), not
            // `is_undefined()`, whose import served only this: 28 B gzip (README "Size").
            if kind == FrameKind::StreamComplete
                && get(&data, keys.name(Field::Content)) == JsValue::UNDEFINED
            {
                let text = text.map_or_else(|| JsValue::from_str(""), |text| text.0);
                set(&data, "content", &text);
            }
            verdict
        }
    }
}

/// The relay's `stream_expired` for a reply it did not recover: the error carries what was
/// received in `data.content`, and the reply is no longer waiting to be reported lost.
fn take_expired(inner: &mut Inner, data: &JsValue, ids: Ids<'_, JsValue>) -> bool {
    if get(data, inner.keys.name(Field::Code))
        != chatwire_protocol::ErrorCode::StreamExpired.as_str()
    {
        return false;
    }
    let names = |id: Option<&JsValue>, own: &Option<JsValue>| id.is_some() && id == own.as_ref();
    let Some(index) = inner.lost.iter().position(|lost| {
        names(ids.message_id, &lost.message_id)
            || names(ids.client_message_id, &lost.client_message_id)
    }) else {
        return false;
    };
    let lost = inner.lost.remove(index);
    set(data, "content", &received(&lost));
    true
}

/// Reports every reply the relay could not resume, and did not say had expired, to
/// `onError` as `stream_lost`, with what was received of it.
pub fn report_lost(shared: &Shared) {
    let lost: Vec<_> = {
        let mut inner = shared.borrow_mut();
        inner.lost_timer = None;
        mem::take(&mut inner.lost)
    };
    for generation in lost {
        let content = received(&generation);
        let details = [
            ("content", Some(&content)),
            ("message_id", generation.message_id.as_ref()),
            ("client_message_id", generation.client_message_id.as_ref()),
        ];
        emit(
            shared,
            Slot::Error,
            &error_frame(ErrorCode::StreamLost, &details),
        );
    }
}

/// The text received of a reply, `""` when no token came.
fn received(generation: &Generation<JsValue, JsText>) -> JsValue {
    generation
        .text
        .as_ref()
        .map_or_else(|| JsValue::from_str(""), |text| text.0.clone())
}
