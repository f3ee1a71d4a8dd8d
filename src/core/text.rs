//! Joining strings: `[a, b, c].concat()` without std's `join`, whose overflow and
//! `copy_from_slice` length checks link panic messages and their formatting into the wasm.

use alloc::string::String;

/// `parts` one after the other.
pub fn join(parts: &[&str]) -> String {
    let mut joined = String::new();
    for part in parts {
        joined.push_str(part);
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_like_concat() {
        for parts in [&[][..], &[""], &["a"], &["ws://", "h:1", "/", "ws/chat/"]] {
            assert_eq!(join(parts), parts.concat());
        }
    }
}
