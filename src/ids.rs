//! Client message ids: short, unique per page, and sortable by creation time.
//!
//! An id is `c-{time}-{counter}-{random}` with each part in base 36, like
//! `c-midc1z40-7-zik0zj`. The parts are decided here; the browser adapter prints them with
//! `Number.prototype.toString(36)`, so no formatting code ships in the wasm.

/// What every id starts with.
pub const PREFIX: &str = "c-";
/// What separates the parts.
pub const SEPARATOR: &str = "-";

/// The three whole numbers of an id: milliseconds since the epoch, a per-page counter, and
/// 32 bits of randomness (`random` is `Math.random()`, 0 ≤ random < 1).
pub fn client_message_id_parts(now_ms: f64, counter: u32, random: f64) -> [f64; 3] {
    let whole = |value: f64| value as u64 as f64; // truncates; NaN and negatives give 0
    [
        whole(now_ms),
        f64::from(counter),
        whole(random.clamp(0.0, 1.0) * 4_294_967_295.0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base36(mut value: u64) -> String {
        let mut digits = Vec::new();
        loop {
            digits.push(char::from_digit((value % 36) as u32, 36).unwrap());
            value /= 36;
            if value == 0 {
                break;
            }
        }
        digits.iter().rev().collect()
    }

    fn id(now_ms: f64, counter: u32, random: f64) -> String {
        let parts = client_message_id_parts(now_ms, counter, random).map(|p| base36(p as u64));
        format!("{PREFIX}{}", parts.join(SEPARATOR))
    }

    #[test]
    fn parts_are_time_counter_and_randomness() {
        assert_eq!(client_message_id_parts(0.0, 0, 0.0), [0.0, 0.0, 0.0]);
        assert_eq!(
            client_message_id_parts(1_764_000_000_000.5, 7, 0.5),
            [1_764_000_000_000.0, 7.0, 2_147_483_647.0]
        );
        assert_eq!(client_message_id_parts(-5.0, 1, f64::NAN), [0.0, 1.0, 0.0]);
        assert_eq!(client_message_id_parts(1.0, 1, 1.0)[2], 4_294_967_295.0);
    }

    #[test]
    fn printed_in_base_36_they_match_the_documented_shape() {
        assert_eq!(id(0.0, 0, 0.0), "c-0-0-0");
        assert_eq!(id(36.0, 35, 1.0), "c-10-z-1z141z3");
        assert_eq!(id(1_764_000_000_000.0, 7, 0.5), "c-midc1z40-7-zik0zj");
        assert_ne!(id(1000.0, 1, 0.25), id(1000.0, 2, 0.25));
    }
}
