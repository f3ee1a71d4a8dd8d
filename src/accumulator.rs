//! The text of each streamed reply still in flight, keyed by `message_id`.
//!
//! The seed app rebuilt the reply from React state inside `onStreamComplete` and read a
//! stale value; the manager keeps the text itself and hands the full reply over instead.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::mem;

/// Replies in flight at once before the oldest is forgotten (a server that never sends
/// `stream_complete` must not grow the page's memory without bound).
const MAX_IN_FLIGHT: usize = 32;

/// Accumulated text per in-flight message.
#[derive(Debug, Default)]
pub struct StreamAccumulator {
    // A short Vec beats a HashMap here: few streams are in flight and it costs less wasm.
    streams: Vec<(String, String)>,
}

impl StreamAccumulator {
    /// Appends `token` to the text of `message_id`.
    pub fn push(&mut self, message_id: &str, token: &str) {
        if let Some((_, text)) = self.streams.iter_mut().find(|(id, _)| id == message_id) {
            text.push_str(token);
            return;
        }
        if self.streams.len() >= MAX_IN_FLIGHT {
            let mut oldest = true;
            self.streams.retain(|_| !mem::take(&mut oldest));
        }
        self.streams.push((message_id.to_owned(), token.to_owned()));
    }

    /// Removes `message_id` and returns its full text (empty if no token arrived).
    pub fn finish(&mut self, message_id: &str) -> String {
        // `retain` rather than `remove(index)`: no bounds-check panic path in the wasm.
        let mut text = String::new();
        self.streams.retain_mut(|(id, streamed)| {
            let done = id == message_id;
            if done {
                text = mem::take(streamed);
            }
            !done
        });
        text
    }

    /// Forgets every stream (the connection that carried them is gone).
    pub fn clear(&mut self) {
        self.streams.clear();
    }

    /// How many streams are in flight.
    pub fn in_flight(&self) -> usize {
        self.streams.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_tokens_per_message() {
        let mut acc = StreamAccumulator::default();
        acc.push("m1", "Hel");
        acc.push("m2", "Other");
        acc.push("m1", "lo ");
        acc.push("m1", "wörld");
        assert_eq!(acc.finish("m1"), "Hello wörld");
        assert_eq!(acc.in_flight(), 1);
        assert_eq!(acc.finish("m2"), "Other");
        assert_eq!(acc.finish("m2"), "");
        assert_eq!(acc.in_flight(), 0);
    }

    #[test]
    fn unknown_message_finishes_empty() {
        let mut acc = StreamAccumulator::default();
        assert_eq!(acc.finish("never-started"), "");
    }

    #[test]
    fn in_flight_streams_are_bounded_oldest_first() {
        let mut acc = StreamAccumulator::default();
        for n in 0..(MAX_IN_FLIGHT + 3) {
            acc.push(&n.to_string(), "x");
        }
        assert_eq!(acc.in_flight(), MAX_IN_FLIGHT);
        assert_eq!(acc.finish("0"), "");
        assert_eq!(acc.finish("3"), "x");
        acc.clear();
        assert_eq!(acc.in_flight(), 0);
    }
}
