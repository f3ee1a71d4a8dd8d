//! Client message ids: short, unique per page, and sortable by creation time.

use alloc::string::String;

/// Builds an id like `c-midc1z40-7-zik0zj` (base-36, as `Number.toString(36)` prints) from the time, a per-page counter and randomness.
pub fn client_message_id(now_ms: f64, counter: u32, random: f64) -> String {
    let mut id = String::with_capacity(24);
    id.push_str("c-");
    push_base36(&mut id, now_ms.max(0.0) as u64);
    id.push('-');
    push_base36(&mut id, u64::from(counter));
    id.push('-');
    push_base36(&mut id, (random.clamp(0.0, 1.0) * 4_294_967_295.0) as u64);
    id
}

fn push_base36(out: &mut String, mut value: u64) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut buffer = [0u8; 13];
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = DIGITS[(value % 36) as usize];
        value /= 36;
        if value == 0 {
            break;
        }
    }
    for &digit in &buffer[start..] {
        out.push(digit as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_time_counter_and_randomness() {
        assert_eq!(client_message_id(0.0, 0, 0.0), "c-0-0-0");
        assert_eq!(client_message_id(36.0, 35, 1.0), "c-10-z-1z141z3");
        assert_eq!(
            client_message_id(1_764_000_000_000.0, 7, 0.5),
            "c-midc1z40-7-zik0zj"
        );
    }

    #[test]
    fn ids_differ_by_counter() {
        let a = client_message_id(1000.0, 1, 0.25);
        let b = client_message_id(1000.0, 2, 0.25);
        assert_ne!(a, b);
        assert!(u64::MAX.to_string().len() < 24);
    }
}
