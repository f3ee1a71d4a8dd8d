//! The JS callbacks a manager dispatches to, and calling them safely.

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::js::type_error;
use crate::core::frame::FrameKind;
use crate::core::text::join;

/// One settable callback property of `ChatWebSocketManager`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Pong,
    StreamToken,
    StreamComplete,
    ChatMessage,
    Error,
    Unknown,
    StateChange,
    Resumed,
}

impl Slot {
    const COUNT: usize = 8;

    /// The property name of each slot, in the order of the variants. A table indexed by
    /// the slot rather than a `match` giving each name: 18 B gzip (README "Size").
    const NAMES: [&'static str; Slot::COUNT] = [
        "onPong",
        "onStreamToken",
        "onStreamComplete",
        "onChatMessage",
        "onError",
        "onUnknown",
        "onStateChange",
        "onResumed",
    ];

    /// The property name, used when a callback throws.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The callback a frame of `kind` goes to.
    pub fn for_frame(kind: FrameKind) -> Slot {
        match kind {
            FrameKind::Pong => Slot::Pong,
            FrameKind::StreamToken => Slot::StreamToken,
            FrameKind::StreamComplete => Slot::StreamComplete,
            FrameKind::ChatMessage => Slot::ChatMessage,
            FrameKind::Error => Slot::Error,
            FrameKind::Unknown | FrameKind::ReasoningToken => Slot::Unknown,
            FrameKind::Resumed => Slot::Resumed,
        }
    }
}

/// The callbacks currently set.
#[derive(Default)]
pub struct Callbacks {
    slots: [Option<Function>; Slot::COUNT],
}

impl Callbacks {
    /// The callback in `slot`, cloned so no borrow is held while JS runs.
    pub fn get(&self, slot: Slot) -> Option<Function> {
        self.slots[slot as usize].clone()
    }

    /// Sets (or clears, with `null`/`undefined`) the callback in `slot`.
    pub fn set(&mut self, slot: Slot, value: JsValue) -> Result<(), JsValue> {
        self.slots[slot as usize] = if value.is_null_or_undefined() {
            None
        } else {
            // Checked with `is_function()` and moved in with `unchecked_into`, the check
            // `dyn_into::<Function>()` makes, without its `Result` carrying the value back:
            // 21 B gzip (README "Size").
            if !value.is_function() {
                let message = [
                    "chatwire: ",
                    slot.name(),
                    " must be a function, null or undefined",
                ];
                return Err(type_error(&join(&message)));
            }
            Some(value.unchecked_into())
        };
        Ok(())
    }
}

/// Calls `callback(arg)`; a throw is logged with the callback's name and goes no further,
/// so one faulty handler cannot stop dispatch.
pub fn invoke(callback: Option<Function>, slot: Slot, arg: &JsValue) {
    let Some(callback) = callback else { return };
    if let Err(thrown) = callback.call1(&JsValue::UNDEFINED, arg) {
        let message = join(&["chatwire: the ", slot.name(), " callback threw"]);
        web_sys::console::error_2(&message.into(), &thrown);
    }
}
