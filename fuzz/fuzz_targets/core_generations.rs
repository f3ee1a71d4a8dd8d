//! The browser client's stream accumulator and resume bookkeeping
//! (`chatwire::core::generations::Generations`), driven by a sequence of operations decoded
//! from the input. The first byte picks one of two scenarios.
//!
//! **Honest relay** (first byte odd): a simulated relay runs up to six generations (at most
//! one running per conversation) and keeps every frame; the input decides which one emits
//! a token, a reasoning token or its end, when the connection drops, which resumes the relay
//! recovers and which have expired, page reloads (the client keeps only its conversations),
//! stale deliveries of frames already sent, and repeated resumes. A reference model says,
//! per generation, whether the client tracks it, by which id it must resume it, the last
//! offset applied and the text so far. Checked after every step:
//!
//! - every frame delivered for the first time is applied, in offset order with no gap, and
//!   every frame delivered again (stale, or replayed after a resume) is a duplicate: no
//!   offset is applied twice, none is skipped;
//! - the text handed over at the end, or with a generation the relay could not recover, is
//!   exactly the concatenation of the generation's answer tokens applied (reasoning
//!   excluded), and the lost generation's offset is the last applied;
//! - `resume_requests` names each generation the client tracks once, by the best id the
//!   client was told, with the last offset applied, plus each conversation kept over a
//!   reload; `in_flight` counts exactly those.
//!
//! **Hostile server** (first byte even): frames name arbitrary message, client and
//! conversation ids and offsets (0, small, `u64::MAX`, or none). Checked:
//!
//! - `in_flight` stays within `MAX_IN_FLIGHT`, and every entry is resumable (one request
//!   each);
//! - a token is a duplicate exactly when its offset is at or below the offset applied by the
//!   entry it names (the newest with its `message_id`, else the oldest waiting for its
//!   `client_message_id`, else a new one at 0); afterwards that entry's offset is the one
//!   applied;
//! - every text handed over (at the end, or lost at a resume) holds only tokens that were
//!   applied, in the order they were applied, with strictly increasing offsets (none twice),
//!   none above the offset the lost generation reports, and no token appears in two texts.

#![no_main]

use std::collections::BTreeSet;

use chatwire::core::generations::{Generations, Ids, ResumeBy, Verdict, MAX_IN_FLIGHT};
use libfuzzer_sys::fuzz_target;

type Gens = Generations<String, String>;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, ops)) = data.split_first() else {
        return;
    };
    let mut input = Input(ops);
    if mode & 1 == 1 {
        Honest::default().run(&mut input);
    } else {
        Hostile::default().run(&mut input);
    }
});

/// The operations' bytes; the run ends where they do.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }
}

/// A request as a comparable value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum By {
    MessageId(String),
    ClientMessageId(String),
    Conversation(String),
}

fn requests(gens: &Gens) -> Vec<(By, u64)> {
    gens.resume_requests()
        .map(|(by, offset)| {
            let by = match by {
                ResumeBy::MessageId(id) => By::MessageId(id.clone()),
                ResumeBy::ClientMessageId(id) => By::ClientMessageId(id.clone()),
                ResumeBy::Conversation(id) => By::Conversation(id.clone()),
            };
            (by, offset)
        })
        .collect()
}

// --- honest relay ------------------------------------------------------------------------

const MAX_GENERATIONS: usize = 6;
const CONVERSATIONS: usize = 3;

#[derive(Debug, Clone)]
enum Frame {
    Token(String),
    Reasoning,
    End,
}

/// One generation: the relay's side and the reference model of the client's.
#[derive(Debug)]
struct TrueGeneration {
    message_id: String,
    client_message_id: String,
    conversation_id: String,
    /// Every frame the relay produced; frame `i` has offset `i + 1`.
    frames: Vec<Frame>,
    /// The relay forgot it (its resume expired): nothing more is produced or sent.
    expired: bool,
    /// The current connection receives its frames.
    watched: bool,
    /// Model: the client has an entry for it.
    tracked: bool,
    /// Model: the client was told its `message_id`.
    knows_message_id: bool,
    /// Model: last offset applied.
    applied: u64,
    /// Model: the answer tokens applied, concatenated; `None` before the first.
    text: Option<String>,
}

impl TrueGeneration {
    fn ended(&self) -> bool {
        matches!(self.frames.last(), Some(Frame::End))
    }

    fn running(&self) -> bool {
        !self.ended() && !self.expired
    }

    fn ids(&self) -> Ids<'_, String> {
        Ids {
            message_id: Some(&self.message_id),
            client_message_id: Some(&self.client_message_id),
            conversation_id: Some(&self.conversation_id),
        }
    }
}

#[derive(Default)]
struct Honest {
    client: Gens,
    generations: Vec<TrueGeneration>,
    connected: bool,
    /// Conversations the page kept over a reload, not resumed yet.
    kept_conversations: Vec<String>,
    /// Conversations the page has chatted in.
    page_conversations: BTreeSet<String>,
    tokens: usize,
}

impl Honest {
    fn run(mut self, input: &mut Input<'_>) {
        self.connected = true;
        while let Some(op) = input.byte() {
            match op % 8 {
                0 => self.chat(input.byte().unwrap_or(0)),
                1 => {
                    let (k, kind) = (input.byte().unwrap_or(0), input.byte().unwrap_or(0));
                    self.emit(k, kind);
                }
                2 => {
                    let (k, back) = (input.byte().unwrap_or(0), input.byte().unwrap_or(0));
                    self.stale(k, back);
                }
                3 => self.drop_connection(),
                4 => self.reconnect(input.byte().unwrap_or(0)),
                5 => self.reload(),
                6 => self.resume_again(input.byte().unwrap_or(0)),
                _ => {
                    let (k, count) = (input.byte().unwrap_or(0), input.byte().unwrap_or(0));
                    for _ in 0..count % 16 {
                        self.emit(k, 0);
                    }
                }
            }
            self.check_requests();
        }
    }

    fn pick(&self, k: u8) -> Option<usize> {
        (!self.generations.is_empty()).then(|| usize::from(k) % self.generations.len())
    }

    /// The user sends a chat in conversation `v` (only while connected, and only where no
    /// reply is running).
    fn chat(&mut self, v: u8) {
        let conversation_id = format!("v{}", usize::from(v) % CONVERSATIONS);
        let busy = self
            .generations
            .iter()
            .any(|g| g.conversation_id == conversation_id && g.running());
        if !self.connected || busy || self.generations.len() >= MAX_GENERATIONS {
            return;
        }
        let n = self.generations.len();
        let client_message_id = format!("c{n}");
        self.client
            .expect(client_message_id.clone(), Some(conversation_id.clone()));
        self.page_conversations.insert(conversation_id.clone());
        self.generations.push(TrueGeneration {
            message_id: format!("m{n}"),
            client_message_id,
            conversation_id,
            frames: Vec::new(),
            expired: false,
            watched: true,
            tracked: true,
            knows_message_id: false,
            applied: 0,
            text: None,
        });
    }

    /// Generation `k` produces its next frame; a watcher gets it at once.
    fn emit(&mut self, k: u8, kind: u8) {
        let Some(k) = self.pick(k) else { return };
        if !self.generations[k].running() {
            return;
        }
        let frame = match kind % 8 {
            0..=4 => {
                self.tokens += 1;
                Frame::Token(format!(
                    "<{} {}>",
                    self.generations[k].message_id, self.tokens
                ))
            }
            5 => Frame::Reasoning,
            _ => Frame::End,
        };
        let generation = &mut self.generations[k];
        generation.frames.push(frame);
        let offset = generation.frames.len() as u64;
        if generation.watched && self.connected {
            self.deliver(k, offset);
        }
    }

    /// Frame `offset` of generation `k` reaches the client, as the adapter passes it on.
    fn deliver(&mut self, k: usize, offset: u64) {
        let generation = &mut self.generations[k];
        assert!(
            generation.tracked,
            "a frame of an untracked generation was sent"
        );
        let frame = generation.frames[offset as usize - 1].clone();
        let first_time = offset == generation.applied + 1;
        assert!(
            offset <= generation.applied + 1,
            "the relay never skips a frame"
        );
        match frame {
            Frame::Token(_) | Frame::Reasoning => {
                let token = match &frame {
                    Frame::Token(token) => Some(token),
                    _ => None,
                };
                // Only a generation's first frame names the chat it answers.
                let client_message_id = (offset == 1).then_some(&generation.client_message_id);
                let verdict = self.client.token(
                    &generation.message_id,
                    Some(offset),
                    token,
                    client_message_id,
                );
                if first_time {
                    assert_eq!(
                        verdict,
                        Verdict::Apply,
                        "{} offset {offset}",
                        generation.message_id
                    );
                    generation.applied = offset;
                    generation.knows_message_id = true;
                    if let Some(token) = token {
                        generation
                            .text
                            .get_or_insert_with(String::new)
                            .push_str(token);
                    }
                } else {
                    assert_eq!(
                        verdict,
                        Verdict::Duplicate,
                        "{} offset {offset} applied twice",
                        generation.message_id
                    );
                }
            }
            Frame::End => {
                let ids = Ids {
                    conversation_id: None,
                    ..generation.ids()
                };
                let (verdict, text) = self.client.finish(ids, Some(offset));
                assert!(first_time, "an end frame is delivered once");
                assert_eq!(verdict, Verdict::Apply);
                assert_eq!(text, generation.text, "the whole answer at its end");
                generation.applied = offset;
                generation.tracked = false;
                generation.watched = false;
            }
        }
    }

    /// A frame already delivered comes again (sent on the old socket, then replayed).
    fn stale(&mut self, k: u8, back: u8) {
        let Some(k) = self.pick(k) else { return };
        let generation = &self.generations[k];
        if !self.connected || !generation.tracked || !generation.watched || generation.applied == 0
        {
            return;
        }
        let offset = 1 + u64::from(back) % generation.applied;
        self.deliver(k, offset);
    }

    fn drop_connection(&mut self) {
        self.connected = false;
        for generation in &mut self.generations {
            generation.watched = false;
        }
    }

    /// A page reload: the client keeps only its conversations.
    fn reload(&mut self) {
        self.drop_connection();
        self.client = Gens::default();
        self.kept_conversations.clear();
        // The reference model forgets with it: after the resume by conversation, the relay
        // sends the running reply from offset 1.
        for generation in &mut self.generations {
            generation.tracked = false;
            generation.knows_message_id = false;
            generation.applied = 0;
            generation.text = None;
        }
        for conversation_id in &self.page_conversations {
            self.client.expect_conversation(conversation_id.clone());
            self.kept_conversations.push(conversation_id.clone());
        }
    }

    /// The connection is back: the client resumes what it tracks, the relay answers each
    /// request in order (bit `i` of `expire`: the `i`th generation it knows has expired), then
    /// replays what followed the client's offset.
    fn reconnect(&mut self, expire: u8) {
        if self.connected {
            self.drop_connection();
        }
        self.connected = true;
        let requests = requests(&self.client);
        for (i, (by, offset)) in requests.into_iter().enumerate() {
            let expired = expire & (1 << (i % 8)) != 0;
            let found = match &by {
                By::MessageId(id) => self.generations.iter().position(|g| &g.message_id == id),
                By::ClientMessageId(id) => self
                    .generations
                    .iter()
                    .position(|g| &g.client_message_id == id),
                By::Conversation(id) => {
                    self.kept_conversations.retain(|kept| kept != id);
                    let running = self
                        .generations
                        .iter()
                        .position(|g| &g.conversation_id == id && g.running());
                    // Expired here: the unwatched reply was aborted, so none is running.
                    if let (Some(k), true) = (running, expired) {
                        self.generations[k].expired = true;
                    }
                    running.filter(|_| !expired)
                }
            };
            let Some(k) = found else {
                // Nothing of that conversation is running: the reply finished (or expired)
                // during the reload; nothing was asked for, nothing is lost.
                let By::Conversation(conversation_id) = &by else {
                    panic!("the client resumed {by:?}, which the relay never started");
                };
                let ids = Ids {
                    message_id: None,
                    client_message_id: None,
                    conversation_id: Some(conversation_id),
                };
                assert!(self.client.resumed(ids, false).is_none(), "{by:?}");
                continue;
            };
            let generation = &mut self.generations[k];
            assert_eq!(
                offset, generation.applied,
                "{by:?} resumed from the wrong offset"
            );
            if !matches!(by, By::Conversation(_)) {
                assert!(generation.tracked);
            }
            generation.tracked = true;
            if expired || generation.expired {
                generation.expired = true;
                let lost = self
                    .client
                    .resumed(generation.ids(), false)
                    .unwrap_or_else(|| panic!("{by:?}: a lost reply is handed back"));
                assert_eq!(lost.text, generation.text, "{by:?}: what was received");
                assert_eq!(lost.applied, generation.applied, "{by:?}");
                generation.tracked = false;
                continue;
            }
            assert!(self.client.resumed(generation.ids(), true).is_none());
            generation.knows_message_id = true;
            generation.watched = true;
            let produced = generation.frames.len() as u64;
            for offset in offset + 1..=produced {
                self.deliver(k, offset);
            }
        }
        assert!(self.kept_conversations.is_empty());
    }

    /// A `resume` for a generation this socket is already receiving: `recovered: true`, and
    /// nothing changes.
    fn resume_again(&mut self, k: u8) {
        let Some(k) = self.pick(k) else { return };
        let generation = &mut self.generations[k];
        if !self.connected || !generation.tracked || !generation.watched {
            return;
        }
        assert!(self.client.resumed(generation.ids(), true).is_none());
        generation.knows_message_id = true;
    }

    fn check_requests(&self) {
        let mut expected: Vec<(By, u64)> = self
            .generations
            .iter()
            .filter(|g| g.tracked)
            .map(|g| {
                let by = if g.knows_message_id {
                    By::MessageId(g.message_id.clone())
                } else {
                    By::ClientMessageId(g.client_message_id.clone())
                };
                (by, g.applied)
            })
            .chain(
                self.kept_conversations
                    .iter()
                    .map(|v| (By::Conversation(v.clone()), 0)),
            )
            .collect();
        let mut actual = requests(&self.client);
        expected.sort();
        actual.sort();
        assert_eq!(actual, expected, "what the client would resume");
        assert_eq!(self.client.in_flight(), expected.len());
    }
}

// --- hostile server ----------------------------------------------------------------------

/// A token's text names itself: `message_id@offset#serial|` (`-` for no offset).
#[derive(Debug, PartialEq)]
struct Piece {
    offset: Option<u64>,
    serial: usize,
}

fn pieces(text: &str) -> Vec<Piece> {
    text.split_terminator('|')
        .map(|piece| {
            let (_, rest) = piece.split_once('@').expect("a token of this target");
            let (offset, serial) = rest.split_once('#').expect("a token of this target");
            Piece {
                offset: offset.parse().ok(),
                serial: serial.parse().expect("a serial"),
            }
        })
        .collect()
}

#[derive(Default)]
struct Hostile {
    client: Gens,
    /// Client message ids sent so far.
    chats: usize,
    /// Serial of each token applied.
    applied: BTreeSet<usize>,
    /// Serial of each token handed over in a text.
    handed_over: BTreeSet<usize>,
    serial: usize,
}

const MESSAGE_IDS: [&str; 4] = ["m0", "m1", "m2", "m3"];
const CONVERSATION_IDS: [&str; 3] = ["v0", "v1", "v2"];

/// `m0` … `m3` for the low three bits 0–3, none for 4–7.
fn message_id(who: u8) -> Option<String> {
    MESSAGE_IDS.get(usize::from(who % 8)).map(|m| m.to_string())
}

/// `c0` … `c6` (sent by the client or not) for 1–7, none for 0 (of the low three bits).
fn client_id(choice: u8) -> Option<String> {
    let choice = usize::from(choice % 8);
    (choice > 0).then(|| format!("c{}", choice - 1))
}

fn offset_of(byte: u8) -> Option<u64> {
    match byte {
        0 => None,
        255 => Some(u64::MAX),
        254 => Some(u64::MAX - 1),
        n => Some(u64::from(n) - 1),
    }
}

impl Hostile {
    fn run(mut self, input: &mut Input<'_>) {
        while let Some(op) = input.byte() {
            match op % 8 {
                0 => {
                    let conversation = input.byte().unwrap_or(0);
                    let client_message_id = format!("c{}", self.chats);
                    self.chats += 1;
                    let conversation_id = CONVERSATION_IDS
                        .get(usize::from(conversation % 4))
                        .map(|v| v.to_string());
                    self.client.expect(client_message_id, conversation_id);
                }
                1 => {
                    let v = input.byte().unwrap_or(0);
                    let v = CONVERSATION_IDS[usize::from(v) % CONVERSATION_IDS.len()];
                    self.client.expect_conversation(v.to_owned());
                }
                2 => {
                    let (m, offset, flags) = (
                        input.byte().unwrap_or(0),
                        input.byte().unwrap_or(0),
                        input.byte().unwrap_or(0),
                    );
                    let message_id = MESSAGE_IDS[usize::from(m % 4)];
                    let client_message_id = client_id(flags >> 1);
                    self.token(
                        message_id,
                        offset_of(offset),
                        flags & 1 == 0,
                        client_message_id,
                    );
                }
                3 => {
                    let (who, offset) = (input.byte().unwrap_or(0), input.byte().unwrap_or(0));
                    self.finish(who, offset_of(offset));
                }
                4 => {
                    let (who, how) = (input.byte().unwrap_or(0), input.byte().unwrap_or(0));
                    self.resumed(who, how);
                }
                5 => self.client.clear(),
                6 => {
                    let (m, start, count) = (
                        input.byte().unwrap_or(0),
                        input.byte().unwrap_or(0),
                        input.byte().unwrap_or(0),
                    );
                    let message_id = MESSAGE_IDS[usize::from(m % 4)];
                    for i in 0..u64::from(count % 32) {
                        self.token(message_id, Some(u64::from(start) + i), true, None);
                    }
                }
                _ => {}
            }
            let requests = requests(&self.client);
            assert!(self.client.in_flight() <= MAX_IN_FLIGHT);
            assert_eq!(
                requests.len(),
                self.client.in_flight(),
                "an entry nothing resumes"
            );
        }
    }

    fn token(
        &mut self,
        message_id: &str,
        offset: Option<u64>,
        answer: bool,
        client_message_id: Option<String>,
    ) {
        let message_id = message_id.to_owned();
        self.serial += 1;
        let written = offset.map_or_else(|| "-".to_owned(), |o| o.to_string());
        let token = format!("{message_id}@{written}#{}|", self.serial);
        // The entry the frame names, and its offset, as `resume_requests` shows them.
        let before = requests(&self.client);
        let by_message = before
            .iter()
            .rev()
            .find(|(by, _)| *by == By::MessageId(message_id.clone()));
        let by_client = client_message_id.as_ref().and_then(|c| {
            before
                .iter()
                .find(|(by, _)| *by == By::ClientMessageId(c.clone()))
        });
        let applied = by_message.or(by_client).map_or(0, |(_, applied)| *applied);
        let verdict = self.client.token(
            &message_id,
            offset,
            answer.then_some(&token),
            client_message_id.as_ref(),
        );
        let duplicate = offset.is_some_and(|offset| offset <= applied);
        assert_eq!(
            verdict == Verdict::Duplicate,
            duplicate,
            "{message_id} at {offset:?} over {applied}"
        );
        if verdict == Verdict::Apply && answer {
            self.applied.insert(self.serial);
        }
        let after = requests(&self.client);
        let now = after
            .iter()
            .rev()
            .find(|(by, _)| *by == By::MessageId(message_id.clone()))
            .map(|(_, applied)| *applied);
        let expected = match verdict {
            Verdict::Apply => offset.unwrap_or(applied),
            Verdict::Duplicate => applied,
        };
        assert_eq!(now, Some(expected), "{message_id} at {offset:?}");
    }

    fn finish(&mut self, who: u8, offset: Option<u64>) {
        let (message, client) = (message_id(who), client_id(who >> 3));
        let ids = Ids {
            message_id: message.as_ref(),
            client_message_id: client.as_ref(),
            conversation_id: None,
        };
        let before = self.client.in_flight();
        let (verdict, text) = self.client.finish(ids, offset);
        if verdict == Verdict::Duplicate {
            assert_eq!(text, None);
            assert_eq!(
                self.client.in_flight(),
                before,
                "a duplicate end removes nothing"
            );
        }
        if let Some(text) = text {
            self.hand_over(&text, None);
        }
    }

    fn resumed(&mut self, who: u8, how: u8) {
        let (message, client) = (message_id(who), client_id(who >> 3));
        let conversation = CONVERSATION_IDS
            .get(usize::from(how >> 1) % 4)
            .map(|v| v.to_string());
        let ids = Ids {
            message_id: message.as_ref(),
            client_message_id: client.as_ref(),
            conversation_id: conversation.as_ref(),
        };
        let recovered = how & 1 == 1;
        let before = self.client.in_flight();
        let lost = self.client.resumed(ids, recovered);
        if recovered {
            assert!(lost.is_none());
            assert!(self.client.in_flight() <= before, "a resume added an entry");
        }
        if let Some(lost) = lost {
            assert!(self.client.in_flight() < before);
            if let Some(text) = &lost.text {
                self.hand_over(text, Some(lost.applied));
            }
        }
    }

    /// A text the client hands over: tokens applied, in order, offsets increasing and at most
    /// `applied`, none handed over before.
    fn hand_over(&mut self, text: &str, applied: Option<u64>) {
        let pieces = pieces(text);
        let mut last_serial = 0;
        let mut last_offset = None;
        for piece in &pieces {
            assert!(
                self.applied.contains(&piece.serial),
                "{text}: token never applied"
            );
            assert!(
                self.handed_over.insert(piece.serial),
                "{text}: token handed over twice"
            );
            assert!(piece.serial > last_serial, "{text}: out of order");
            last_serial = piece.serial;
            if let Some(offset) = piece.offset {
                assert!(last_offset < Some(offset), "{text}: offsets not increasing");
                last_offset = Some(offset);
                if let Some(applied) = applied {
                    assert!(
                        offset <= applied,
                        "{text}: beyond the offset applied {applied}"
                    );
                }
            }
        }
    }
}
