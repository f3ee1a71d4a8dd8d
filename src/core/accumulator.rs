//! The text of each streamed reply still in flight, keyed by `message_id`.
//!
//! The seed app rebuilt the reply from React state inside `onStreamComplete` and read a
//! stale value; the manager keeps the text itself and hands the full reply over instead.
//!
//! Generic over the id and text types: native tests use `String`; the browser adapter
//! keeps JS strings, so a token is never copied into wasm memory on the hot path.

use alloc::string::String;
use alloc::vec::Vec;

/// Replies in flight at once before the oldest is forgotten (a server that never sends
/// `stream_complete` must not grow the page's memory without bound).
pub const MAX_IN_FLIGHT: usize = 32;

/// Text that tokens are appended to; a stream's text starts as a copy of its first token.
pub trait StreamText: Clone {
    /// `self += token`.
    fn append(&mut self, token: &Self);
}

impl StreamText for String {
    fn append(&mut self, token: &Self) {
        self.push_str(token);
    }
}

/// Accumulated text per in-flight message.
#[derive(Debug)]
pub struct StreamAccumulator<Id, Text> {
    // A short Vec beats a map here: few streams are in flight and it costs less wasm.
    streams: Vec<(Id, Text)>,
}

impl<Id, Text> Default for StreamAccumulator<Id, Text> {
    fn default() -> Self {
        StreamAccumulator {
            streams: Vec::new(),
        }
    }
}

impl<Id: PartialEq + Clone, Text: StreamText> StreamAccumulator<Id, Text> {
    /// Appends `token` to the text of `message_id` (the first token starts it).
    pub fn push(&mut self, message_id: &Id, token: &Text) {
        // Newest first: the stream being extended is almost always the latest one.
        if let Some((_, text)) = self
            .streams
            .iter_mut()
            .rev()
            .find(|(id, _)| id == message_id)
        {
            text.append(token);
            return;
        }
        if self.streams.len() >= MAX_IN_FLIGHT {
            self.streams.remove(0);
        }
        self.streams.push((message_id.clone(), token.clone()));
    }

    /// Removes `message_id` and returns its full text (`None` if no token arrived).
    pub fn finish(&mut self, message_id: &Id) -> Option<Text> {
        let index = self.streams.iter().position(|(id, _)| id == message_id)?;
        Some(self.streams.remove(index).1)
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

    type Acc = StreamAccumulator<String, String>;

    fn s(text: &str) -> String {
        text.to_owned()
    }

    #[test]
    fn joins_tokens_per_message() {
        let mut acc = Acc::default();
        acc.push(&s("m1"), &s("Hel"));
        acc.push(&s("m2"), &s("Other"));
        acc.push(&s("m1"), &s("lo "));
        acc.push(&s("m1"), &s("wörld"));
        assert_eq!(acc.finish(&s("m1")).as_deref(), Some("Hello wörld"));
        assert_eq!(acc.in_flight(), 1);
        assert_eq!(acc.finish(&s("m2")).as_deref(), Some("Other"));
        assert_eq!(acc.finish(&s("m2")), None);
        assert_eq!(acc.in_flight(), 0);
    }

    #[test]
    fn unknown_message_finishes_with_nothing() {
        let mut acc = Acc::default();
        assert_eq!(acc.finish(&s("never-started")), None);
    }

    #[test]
    fn in_flight_streams_are_bounded_oldest_first() {
        let mut acc = Acc::default();
        for n in 0..(MAX_IN_FLIGHT + 3) {
            acc.push(&n.to_string(), &s("x"));
        }
        assert_eq!(acc.in_flight(), MAX_IN_FLIGHT);
        assert_eq!(acc.finish(&s("0")), None);
        assert_eq!(acc.finish(&s("2")), None);
        assert_eq!(acc.finish(&s("3")).as_deref(), Some("x"));
        acc.clear();
        assert_eq!(acc.in_flight(), 0);
    }
}
