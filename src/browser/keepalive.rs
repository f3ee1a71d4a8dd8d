//! The heartbeat in the browser: ping after silence, declare a silent socket dead. When to
//! do which is decided by `core::heartbeat::Heartbeat`; this file sends and schedules.

use js_sys::Date;

use super::connection;
use super::shared::{Inner, Shared};
use super::timer::Timeout;
use crate::core::heartbeat::Beat;
use crate::core::state::ConnectionState;

/// The ping frame, always the same text.
const PING: &str = r#"{"type":"ping"}"#;

/// The timer for the heartbeat's next tick, `after_ms` from now.
pub fn next_tick(shared: &Shared, after_ms: f64) -> Timeout {
    // +1 ms: a timer that fires a fraction early would only tick again at once.
    connection::after(shared, after_ms + 1.0, on_tick)
}

fn on_tick(shared: &Shared) {
    let mut inner = shared.borrow_mut();
    if inner.life.state() != ConnectionState::Open {
        return;
    }
    let Some(heartbeat) = &mut inner.heartbeat else {
        return;
    };
    let next_tick_ms = match heartbeat.tick(Date::now()) {
        Beat::Ping { next_tick_ms } => {
            send_ping(&inner);
            next_tick_ms
        }
        Beat::Wait { next_tick_ms } => next_tick_ms,
        Beat::Dead => {
            drop(inner);
            // The socket may still say OPEN; treat it as gone and reconnect.
            connection::on_lost(shared, 1006);
            return;
        }
    };
    inner.timer = Some(next_tick(shared, next_tick_ms));
}

/// `offline`: ping now, so a dead socket is found out within the heartbeat timeout.
pub fn probe(shared: &Shared) {
    let mut inner = shared.borrow_mut();
    let probe = inner.heartbeat.as_mut().map(|hb| hb.probe(Date::now()));
    match probe {
        Some(Some(next_tick_ms)) => {
            send_ping(&inner);
            inner.timer = Some(next_tick(shared, next_tick_ms));
        }
        Some(None) => {}
        None => send_ping(&inner),
    }
}

fn send_ping(inner: &Inner) {
    if let Some(socket) = &inner.socket {
        let _ = socket.send(PING);
    }
}
