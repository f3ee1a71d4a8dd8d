//! Client message ids: short, unique per page, and sortable by creation time.
//!
//! An id is `c-{time}-{counter}-{random}` with each part in base 36, like
//! `c-midc1z40-7-zik0zj`: milliseconds since the epoch, a per-page counter, and 32 bits of
//! randomness.

use alloc::string::String;

/// A fresh id from the clock (`now_ms`), the page's counter and `random`
/// (`Math.random()`, 0 ≤ random < 1).
pub fn client_message_id(now_ms: f64, counter: u32, random: f64) -> String {
    let whole = |value: f64| value as u64; // truncates; NaN and negatives give 0
    let mut id = String::from("c-");
    push_base36(&mut id, whole(now_ms));
    id.push('-');
    push_base36(&mut id, u64::from(counter));
    id.push('-');
    push_base36(&mut id, whole(random.clamp(0.0, 1.0) * 4_294_967_295.0));
    id
}

/// Appends `value` in base 36, lower case, like `Number.prototype.toString(36)`: its
/// higher digits first (at most 13 deep), then its last.
fn push_base36(out: &mut String, value: u64) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if value >= 36 {
        push_base36(out, value / 36);
    }
    out.push(char::from(DIGITS[(value % 36) as usize]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_counter_and_randomness_in_base_36() {
        assert_eq!(client_message_id(0.0, 0, 0.0), "c-0-0-0");
        assert_eq!(client_message_id(36.0, 35, 1.0), "c-10-z-1z141z3");
        assert_eq!(
            client_message_id(1_764_000_000_000.0, 7, 0.5),
            "c-midc1z40-7-zik0zj"
        );
        assert_eq!(client_message_id(-5.0, 1, f64::NAN), "c-0-1-0");
        assert_ne!(
            client_message_id(1000.0, 1, 0.25),
            client_message_id(1000.0, 2, 0.25)
        );
        let mut max = String::new();
        push_base36(&mut max, u64::MAX);
        assert_eq!(max, "3w5e11264sgsf");
    }
}
