//! Identifiers the relay assigns (message and conversation ids) and cheap randomness.
//!
//! Ids only need to be unique, not secret: a process-wide random seed plus a counter, mixed
//! through std's randomly keyed SipHash, so no RNG crate is needed.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn hasher_seed() -> &'static RandomState {
    static SEED: OnceLock<RandomState> = OnceLock::new();
    SEED.get_or_init(RandomState::new)
}

/// A pseudo-random 64-bit number (unique per call within the process).
pub fn random_u64() -> u64 {
    let mut h = hasher_seed().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

/// A new id such as `msg_3f2a9c0d1b7e4a55`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{:016x}", random_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_and_distinct() {
        let a = new_id("msg");
        let b = new_id("msg");
        assert!(a.starts_with("msg_") && a.len() == 20, "{a}");
        assert_ne!(a, b);
    }
}
