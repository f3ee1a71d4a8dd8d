//! One monotonic clock for the whole process: the fake upstream stamps each token with it and
//! the clients read it on arrival, so a latency is one subtraction with no clock skew.

use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Instant> = OnceLock::new();

/// Nanoseconds since the process's first call.
pub fn now_ns() -> u64 {
    let start = START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}
