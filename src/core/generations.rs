//! What the client knows of each generation (streamed reply) in flight: its ids, the last
//! frame `offset` it applied, and the text so far. After a reconnect it says what to
//! `resume`; it drops frames at or below the applied offset, so no token is applied twice;
//! it hands the whole text over when the reply ends, or what was received when it is lost.
//!
//! The relay numbers every frame of a generation with `offset` (1, 2, … across all its
//! frames). A generation may be known first only by the `client_message_id` of the chat that
//! asked for it, or only by its `conversation_id` (after a page reload), until a frame or a
//! `resumed` answer tells its `message_id`.
//!
//! Generic over the id and text types: native tests use `String`; the browser adapter keeps
//! JS strings, so a token is never copied into wasm memory on the per-frame path.

use alloc::string::String;
use alloc::vec::Vec;

/// Generations tracked at once before the oldest is forgotten (a server that never ends a
/// reply must not grow the page's memory without bound).
pub const MAX_IN_FLIGHT: usize = 32;

/// Text that tokens are appended to; a reply's text starts as a copy of its first token.
pub trait StreamText: Clone {
    /// `self += token`.
    fn append(&mut self, token: &Self);
}

impl StreamText for String {
    fn append(&mut self, token: &Self) {
        self.push_str(token);
    }
}

/// One generation in flight.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation<Id, Text> {
    /// The relay's id, once a frame or `resumed` told it.
    pub message_id: Option<Id>,
    /// The id of the chat that asked for it, when this client sent it.
    pub client_message_id: Option<Id>,
    /// Its conversation, when known.
    pub conversation_id: Option<Id>,
    /// The last offset applied; 0 before any.
    pub applied: u64,
    /// The answer so far; `None` before the first token.
    pub text: Option<Text>,
}

impl<Id, Text> Generation<Id, Text> {
    fn empty() -> Self {
        Generation {
            message_id: None,
            client_message_id: None,
            conversation_id: None,
            applied: 0,
            text: None,
        }
    }
}

/// Whether a frame is new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// New: apply and dispatch it.
    Apply,
    /// At or below the offset already applied: drop it.
    Duplicate,
}

/// How a `resume` names a generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeBy<'a, Id> {
    /// By the relay's id.
    MessageId(&'a Id),
    /// By the id of the chat that asked for it (its `message_id` is not known yet).
    ClientMessageId(&'a Id),
    /// By its conversation (after a page reload).
    Conversation(&'a Id),
}

/// The ids a frame names, any of which may be missing.
#[derive(Debug)]
pub struct Ids<'a, Id> {
    pub message_id: Option<&'a Id>,
    pub client_message_id: Option<&'a Id>,
    pub conversation_id: Option<&'a Id>,
}

// Copy whatever `Id` is: only references are copied (a derive would demand `Id: Copy`).
impl<Id> Clone for Ids<'_, Id> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Id> Copy for Ids<'_, Id> {}

/// Every generation in flight, oldest first.
#[derive(Debug)]
pub struct Generations<Id, Text> {
    // A short Vec beats a map: few replies are in flight, and it costs less wasm.
    list: Vec<Generation<Id, Text>>,
}

impl<Id, Text> Default for Generations<Id, Text> {
    fn default() -> Self {
        Generations { list: Vec::new() }
    }
}

impl<Id: PartialEq + Clone, Text: StreamText> Generations<Id, Text> {
    /// A chat was sent: expect the generation that answers `client_message_id`.
    pub fn expect(&mut self, client_message_id: Id, conversation_id: Option<Id>) {
        self.add(Generation {
            client_message_id: Some(client_message_id),
            conversation_id,
            ..Generation::empty()
        });
    }

    /// After a page reload: expect whatever generation of `conversation_id` is running.
    pub fn expect_conversation(&mut self, conversation_id: Id) {
        let known = self
            .list
            .iter()
            .any(|g| g.conversation_id.as_ref() == Some(&conversation_id));
        if !known {
            self.add(Generation {
                conversation_id: Some(conversation_id),
                ..Generation::empty()
            });
        }
    }

    /// A token frame (`stream_token`, `reasoning_token`) of `message_id` at `offset`
    /// (`None` from a server without offsets: always new). `token`, when given, is appended
    /// to the answer text if the frame is new. The first frame of a generation also names
    /// the `client_message_id` of the chat it answers, which links the two.
    pub fn token(
        &mut self,
        message_id: &Id,
        offset: Option<u64>,
        token: Option<&Text>,
        client_message_id: Option<&Id>,
    ) -> Verdict {
        // Newest first: the reply being extended is almost always the latest one.
        let known = self
            .list
            .iter()
            .rposition(|g| g.message_id.as_ref() == Some(message_id));
        let expected = || {
            let client_message_id = client_message_id?;
            self.list.iter().position(|g| {
                g.message_id.is_none() && g.client_message_id.as_ref() == Some(client_message_id)
            })
        };
        let index = match known.or_else(expected) {
            Some(index) => index,
            None => {
                self.add(Generation {
                    client_message_id: client_message_id.cloned(),
                    ..Generation::empty()
                });
                self.list.len() - 1
            }
        };
        // `get_mut`, though `index` is always in the list: with `finish`'s `get`, the
        // client's last bounds checks go, and core's bounds-check panic with them (73 B gzip).
        let Some(generation) = self.list.get_mut(index) else {
            return Verdict::Apply;
        };
        generation.message_id = Some(message_id.clone());
        if offset.is_some_and(|offset| offset <= generation.applied) {
            return Verdict::Duplicate;
        }
        generation.applied = offset.unwrap_or(generation.applied);
        if let Some(token) = token {
            match &mut generation.text {
                Some(text) => text.append(token),
                None => generation.text = Some(token.clone()),
            }
        }
        Verdict::Apply
    }

    /// A frame that ends a generation (`stream_complete`, `chat_message`, or an `error`
    /// naming it). Removes it and returns its text, unless the frame is a duplicate.
    pub fn finish(&mut self, ids: Ids<'_, Id>, offset: Option<u64>) -> (Verdict, Option<Text>) {
        let Some(index) = self.position(ids) else {
            return (Verdict::Apply, None);
        };
        // `get`, not `[index]`: see `token`.
        let applied = self.list.get(index).map_or(0, |g| g.applied);
        if offset.is_some_and(|offset| offset <= applied) {
            return (Verdict::Duplicate, None);
        }
        let finished = self.list.remove(index);
        // The chat's own entry, if its reply was tracked by `message_id` alone until now.
        if let Some(client_id) = finished
            .client_message_id
            .as_ref()
            .or(ids.client_message_id)
        {
            self.list.retain(|g| {
                g.message_id.is_some() || g.client_message_id.as_ref() != Some(client_id)
            });
        }
        (Verdict::Apply, finished.text)
    }

    /// The relay answered a `resume`. When `recovered`, the generation's ids are joined into
    /// one entry (the frames that follow continue it); when not, the generation is removed
    /// and returned, with what was received of it.
    pub fn resumed(&mut self, ids: Ids<'_, Id>, recovered: bool) -> Option<Generation<Id, Text>> {
        let index = self.position(ids)?;
        let mut generation = self.list.remove(index);
        // Entries the same generation had under another id (a chat tracked by its client id
        // while its tokens were tracked by message id).
        while let Some(other) = self.position(ids) {
            let other = self.list.remove(other);
            // The entry further along keeps its offset and text.
            if other.applied > generation.applied {
                generation.applied = other.applied;
                generation.text = other.text.or(generation.text);
            } else {
                generation.text = generation.text.or(other.text);
            }
            generation.client_message_id = generation.client_message_id.or(other.client_message_id);
            generation.conversation_id = generation.conversation_id.or(other.conversation_id);
        }
        if !recovered {
            // A conversation resumed after a reload with nothing running lost nothing.
            let asked_for =
                generation.message_id.is_some() || generation.client_message_id.is_some();
            return asked_for.then_some(generation);
        }
        generation.message_id = generation.message_id.or(ids.message_id.cloned());
        generation.client_message_id = generation
            .client_message_id
            .or(ids.client_message_id.cloned());
        generation.conversation_id = generation.conversation_id.or(ids.conversation_id.cloned());
        self.add(generation);
        None
    }

    /// What to `resume` after a reconnect, with the last offset applied of each.
    pub fn resume_requests(&self) -> impl Iterator<Item = (ResumeBy<'_, Id>, u64)> {
        self.list.iter().filter_map(|g| {
            let by = match (&g.message_id, &g.client_message_id, &g.conversation_id) {
                (Some(id), _, _) => ResumeBy::MessageId(id),
                (None, Some(id), _) => ResumeBy::ClientMessageId(id),
                (None, None, Some(id)) => ResumeBy::Conversation(id),
                (None, None, None) => return None,
            };
            Some((by, g.applied))
        })
    }

    /// Forgets every generation (`disconnect()`: the relay stops them).
    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// How many generations are in flight.
    pub fn in_flight(&self) -> usize {
        self.list.len()
    }

    fn add(&mut self, generation: Generation<Id, Text>) {
        if self.list.len() >= MAX_IN_FLIGHT {
            self.list.remove(0);
        }
        self.list.push(generation);
    }

    /// The entry `ids` name: by message id first, then by client message id, then (among
    /// entries known by nothing else) by conversation.
    fn position(&self, ids: Ids<'_, Id>) -> Option<usize> {
        let named = |id: Option<&Id>, own: &Option<Id>| id.is_some() && id == own.as_ref();
        let by_conversation = |g: &Generation<Id, Text>| {
            g.message_id.is_none()
                && g.client_message_id.is_none()
                && named(ids.conversation_id, &g.conversation_id)
        };
        self.list
            .iter()
            .position(|g| named(ids.message_id, &g.message_id))
            .or_else(|| {
                self.list
                    .iter()
                    .position(|g| named(ids.client_message_id, &g.client_message_id))
            })
            .or_else(|| self.list.iter().position(by_conversation))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Gens = Generations<String, String>;

    impl Gens {
        fn token4(&mut self, m: &String, offset: Option<u64>, token: Option<&String>) -> Verdict {
            self.token(m, offset, token, None)
        }
    }

    fn s(text: &str) -> String {
        text.to_owned()
    }

    fn ids<'a>(message: Option<&'a String>, client: Option<&'a String>) -> Ids<'a, String> {
        Ids {
            message_id: message,
            client_message_id: client,
            conversation_id: None,
        }
    }

    #[test]
    fn joins_tokens_per_message_and_hands_the_text_over_at_the_end() {
        let mut g = Gens::default();
        let (m1, m2) = (s("m1"), s("m2"));
        assert_eq!(g.token4(&m1, Some(1), Some(&s("Hel"))), Verdict::Apply);
        g.token4(&m2, Some(1), Some(&s("Other")));
        g.token4(&m1, Some(2), Some(&s("lo ")));
        g.token4(&m1, Some(3), Some(&s("wörld")));
        let (verdict, text) = g.finish(ids(Some(&m1), None), Some(4));
        assert_eq!(
            (verdict, text.as_deref()),
            (Verdict::Apply, Some("Hello wörld"))
        );
        assert_eq!(g.in_flight(), 1);
        assert_eq!(
            g.finish(ids(Some(&m2), None), None).1.as_deref(),
            Some("Other")
        );
        assert_eq!(g.in_flight(), 0);
        assert_eq!(g.finish(ids(Some(&m2), None), None), (Verdict::Apply, None));
    }

    #[test]
    fn frames_at_or_below_the_applied_offset_are_duplicates() {
        let mut g = Gens::default();
        let m = s("m");
        g.token4(&m, Some(1), Some(&s("a")));
        g.token4(&m, Some(2), Some(&s("b")));
        assert_eq!(g.token4(&m, Some(2), Some(&s("b"))), Verdict::Duplicate);
        assert_eq!(g.token4(&m, Some(1), Some(&s("a"))), Verdict::Duplicate);
        // Reasoning tokens count offsets too, but add no text.
        assert_eq!(g.token4(&m, Some(3), None), Verdict::Apply);
        assert_eq!(g.token4(&m, Some(3), None), Verdict::Duplicate);
        assert_eq!(g.token4(&m, Some(4), Some(&s("c"))), Verdict::Apply);
        assert_eq!(
            g.finish(ids(Some(&m), None), Some(4)),
            (Verdict::Duplicate, None)
        );
        assert_eq!(
            g.finish(ids(Some(&m), None), Some(5)).1.as_deref(),
            Some("abc")
        );
        // Without offsets (an older server) every frame is new.
        let old = s("old");
        assert_eq!(g.token4(&old, None, Some(&s("x"))), Verdict::Apply);
        assert_eq!(g.token4(&old, None, Some(&s("x"))), Verdict::Apply);
    }

    #[test]
    fn a_reconnect_resumes_by_the_best_id_known_with_the_last_offset() {
        let mut g = Gens::default();
        let (c1, c2, m1, conv) = (s("c1"), s("c2"), s("m1"), s("conv"));
        g.expect(c1.clone(), Some(conv.clone()));
        g.token4(&m1, Some(1), Some(&s("x")));
        g.token4(&m1, Some(2), Some(&s("y")));
        g.expect(c2.clone(), None);
        g.expect_conversation(s("other"));
        g.expect_conversation(conv.clone()); // already expected through c1
        let requests: Vec<_> = g.resume_requests().collect();
        assert_eq!(
            requests,
            [
                (ResumeBy::ClientMessageId(&c1), 0),
                (ResumeBy::MessageId(&m1), 2),
                (ResumeBy::ClientMessageId(&c2), 0),
                (ResumeBy::Conversation(&s("other")), 0),
            ]
        );
    }

    #[test]
    fn resumed_joins_the_ids_of_one_generation() {
        let mut g = Gens::default();
        let (c1, m1) = (s("c1"), s("m1"));
        g.expect(c1.clone(), None);
        g.token4(&m1, Some(1), Some(&s("Hi")));
        // The relay says c1 is m1: one entry, keeping the text and offset already applied.
        let answer = ids(Some(&m1), Some(&c1));
        assert_eq!(g.resumed(answer, true), None);
        assert_eq!(g.in_flight(), 1);
        assert_eq!(g.token4(&m1, Some(1), Some(&s("Hi"))), Verdict::Duplicate);
        g.token4(&m1, Some(2), Some(&s(" there")));
        assert_eq!(
            g.resume_requests().collect::<Vec<_>>(),
            [(ResumeBy::MessageId(&m1), 2)]
        );
        assert_eq!(
            g.finish(ids(None, Some(&c1)), Some(3)).1.as_deref(),
            Some("Hi there")
        );
        assert_eq!(g.in_flight(), 0);
    }

    #[test]
    fn a_page_reload_finds_its_generation_by_conversation() {
        let mut g = Gens::default();
        let (conv, m, c) = (s("conv"), s("m"), s("c"));
        g.expect_conversation(conv.clone());
        let answer = Ids {
            message_id: Some(&m),
            client_message_id: Some(&c),
            conversation_id: Some(&conv),
        };
        assert_eq!(g.resumed(answer, true), None);
        g.token4(&m, Some(1), Some(&s("all")));
        assert_eq!(
            g.finish(ids(Some(&m), Some(&c)), Some(2)).1.as_deref(),
            Some("all")
        );
        assert_eq!(g.in_flight(), 0);
    }

    #[test]
    fn a_page_reload_with_nothing_running_loses_nothing() {
        let mut g = Gens::default();
        let conv = s("conv");
        g.expect_conversation(conv.clone());
        let answer = Ids {
            message_id: None,
            client_message_id: None,
            conversation_id: Some(&conv),
        };
        assert_eq!(g.resumed(answer, false), None);
        assert_eq!(g.in_flight(), 0);
    }

    #[test]
    fn a_generation_not_recovered_is_handed_back_with_what_was_received() {
        let mut g = Gens::default();
        let (c, m) = (s("c"), s("m"));
        g.expect(c.clone(), None);
        g.token4(&m, Some(1), Some(&s("part")));
        let lost = g.resumed(ids(Some(&m), None), false).expect("lost");
        assert_eq!(lost.text.as_deref(), Some("part"));
        assert_eq!(lost.applied, 1);
        // The chat's own entry is still there until the relay answers for it too.
        let lost = g.resumed(ids(None, Some(&c)), false).expect("lost");
        assert_eq!(lost.text, None);
        assert_eq!(g.in_flight(), 0);
        assert_eq!(g.resumed(ids(Some(&m), None), false), None, "unknown ids");
    }

    #[test]
    fn the_first_frame_links_a_reply_to_its_chat() {
        let mut g = Gens::default();
        let (c, m, conv) = (s("c"), s("m"), s("conv"));
        g.expect(c.clone(), Some(conv.clone()));
        assert_eq!(
            g.token(&m, Some(1), Some(&s("a")), Some(&c)),
            Verdict::Apply
        );
        g.token4(&m, Some(2), Some(&s("b")));
        assert_eq!(g.in_flight(), 1, "one entry for the chat and its reply");
        assert_eq!(
            g.resume_requests().collect::<Vec<_>>(),
            [(ResumeBy::MessageId(&m), 2)]
        );
        let lost = g.resumed(ids(Some(&m), None), false).unwrap();
        assert_eq!(
            (lost.client_message_id, lost.conversation_id, lost.text),
            (Some(c), Some(conv), Some(s("ab")))
        );
    }

    #[test]
    fn a_refused_chat_ends_its_expectation() {
        let mut g = Gens::default();
        let c = s("c");
        g.expect(c.clone(), None);
        assert_eq!(g.finish(ids(None, Some(&c)), None), (Verdict::Apply, None));
        assert_eq!(g.in_flight(), 0);
    }

    #[test]
    fn in_flight_generations_are_bounded_oldest_first() {
        let mut g = Gens::default();
        for n in 0..(MAX_IN_FLIGHT + 3) {
            g.token4(&n.to_string(), Some(1), Some(&s("x")));
        }
        assert_eq!(g.in_flight(), MAX_IN_FLIGHT);
        assert_eq!(g.finish(ids(Some(&s("0")), None), None).1, None);
        assert_eq!(
            g.finish(ids(Some(&s("3")), None), None).1.as_deref(),
            Some("x")
        );
        g.clear();
        assert_eq!(g.in_flight(), 0);
    }
}
