//! The ids frames carry: who assigns them and how long they may be.
//!
//! `message_id` is assigned by the relay (`msg_` + 16 hex digits); `conversation_id` and
//! `client_message_id` may come from the client, and the relay refuses ones that are empty
//! or longer than [`MAX_ID_LEN`] bytes with `bad_frame`.

/// Longest accepted `conversation_id`, `client_message_id` or `message_id`, in bytes.
pub const MAX_ID_LEN: usize = 128;

/// Whether `id` is an acceptable client-chosen id: 1 to [`MAX_ID_LEN`] bytes.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_one_to_128_bytes() {
        assert!(valid_id("c"));
        assert!(valid_id(&"x".repeat(MAX_ID_LEN)));
        assert!(!valid_id(""));
        assert!(!valid_id(&"x".repeat(MAX_ID_LEN + 1)));
        // Bytes, not characters: 43 three-byte characters are 129 bytes.
        assert!(!valid_id(&"€".repeat(43)));
    }
}
