//! The offline provider: with no API key, the relay still answers, so a new user can try the
//! chat end to end. It streams a short, clearly labelled reply built from the user's message,
//! one word at a time with a small delay, like a real model would.

use std::time::Duration;

use super::{Prompt, Reply};
use crate::error::GenerationError;
use crate::generation::Emitter;
use crate::history::Role;

/// Longest part of the user's message quoted back, in characters.
const QUOTE_CHARS: usize = 200;

/// Canned replies, no network.
#[derive(Debug, Clone)]
pub struct OfflineProvider {
    delay: Duration,
}

impl OfflineProvider {
    /// A provider waiting `delay` before each token.
    pub fn new(delay: Duration) -> OfflineProvider {
        OfflineProvider { delay }
    }

    /// The full reply text for `prompt`.
    pub fn reply_text(prompt: &Prompt) -> String {
        let turn = prompt
            .history
            .iter()
            .filter(|t| t.role == Role::User)
            .count()
            + 1;
        let mut quote: String = prompt.user.trim().chars().take(QUOTE_CHARS).collect();
        if prompt.user.trim().chars().count() > QUOTE_CHARS {
            quote.push('…');
        }
        format!(
            "[offline demo] You said: \"{quote}\". This is message {turn} of this conversation. \
             The relay has no DEEPSEEK_API_KEY, so this reply comes from its offline provider."
        )
    }

    /// Streams [`OfflineProvider::reply_text`] word by word.
    pub async fn generate(
        &self,
        prompt: &Prompt,
        emitter: &mut Emitter,
    ) -> Result<Reply, GenerationError> {
        let text = Self::reply_text(prompt);
        for token in split_words(&text) {
            tokio::time::sleep(self.delay).await;
            emitter.answer(token).await;
        }
        Ok(Reply::Streamed {
            finish_reason: "stop".to_owned(),
            usage: None,
        })
    }
}

/// Splits text into words, each keeping its trailing whitespace (so joining gives the text).
fn split_words(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let end = rest[word_end..]
            .find(|c: char| !c.is_whitespace())
            .map_or(rest.len(), |n| word_end + n);
        let (token, tail) = rest.split_at(end);
        rest = tail;
        Some(token)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Turn;

    #[test]
    fn words_rejoin_to_the_text() {
        let text = "Hello  wide\nworld ";
        let words: Vec<_> = split_words(text).collect();
        assert_eq!(words, ["Hello  ", "wide\n", "world "]);
        assert_eq!(words.concat(), text);
    }

    #[test]
    fn reply_quotes_the_message_and_counts_turns() {
        let prompt = Prompt {
            history: vec![
                Turn {
                    role: Role::User,
                    content: "a".into(),
                },
                Turn {
                    role: Role::Assistant,
                    content: "b".into(),
                },
            ],
            user: "What is Rust?".into(),
        };
        let text = OfflineProvider::reply_text(&prompt);
        assert!(text.starts_with("[offline demo]"), "{text}");
        assert!(text.contains("\"What is Rust?\""));
        assert!(text.contains("message 2 "));
    }
}
