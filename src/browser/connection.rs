//! The connection's life in the browser: starting, fetching the token, opening the socket,
//! losing it and reconnecting. What to do is decided by `core::state::Lifecycle`; this file
//! carries it out with sockets and timers.

use alloc::vec::Vec;
use core::mem;

use js_sys::{Date, Math};

use super::auth_token::{when_settled, TokenAnswer};
use super::dispatch;
use super::endpoint;
use super::keepalive;
use super::outgoing;
use super::page_life::{PageEvent, PageLife};
use super::shared::{report, settle, with_state_change, Inner, Shared};
use super::socket::Socket;
use super::timer::Timeout;
use crate::core::error::ErrorCode;
use crate::core::heartbeat::Heartbeat;
use crate::core::state::{AfterLoss, ConnectionState};

/// `connect()`, `retry()`, or the network coming back after a failure. Returns false when
/// a connection is already active.
pub fn start(shared: &Shared) -> bool {
    let started = with_state_change(shared, |inner| {
        let started = inner.life.start();
        if started {
            inner.release_connection();
            inner
                .page
                .get_or_insert_with(|| PageLife::listen(&shared.downgrade()));
        }
        started
    });
    if started {
        begin_attempt(shared);
    }
    started
}

/// Gets the token (calling the token function if there is one), then opens a socket.
fn begin_attempt(shared: &Shared) {
    let (answer, attempt) = {
        let mut inner = shared.borrow_mut();
        inner.attempt = inner.attempt.wrapping_add(1);
        (inner.auth_token.request(), inner.attempt)
    };
    match answer {
        TokenAnswer::Ready(token) => open_socket(shared, &token),
        TokenAnswer::Failed => token_failed(shared),
        TokenAnswer::Pending(promise) => {
            // Holds only a weak reference: a manager freed meanwhile is not kept alive,
            // and its late answer goes nowhere.
            let manager = shared.downgrade();
            when_settled(&promise, move |token| {
                let Some(shared) = manager.upgrade() else {
                    return;
                };
                let current = {
                    let inner = shared.borrow();
                    inner.attempt == attempt && inner.life.state() == ConnectionState::Connecting
                };
                match token {
                    _ if !current => {}
                    Some(token) => open_socket(&shared, &token),
                    None => token_failed(&shared),
                }
            });
        }
    }
}

fn token_failed(shared: &Shared) {
    report(shared, ErrorCode::TokenFailed);
    on_lost(shared, 1006);
}

fn open_socket(shared: &Shared, token: &str) {
    let socket = {
        let inner = shared.borrow();
        endpoint::chat_url(inner.options.url.as_deref(), &inner.session_id, token).and_then(|url| {
            Socket::open(&url, &shared.downgrade()).map_err(|_| ErrorCode::InvalidUrl)
        })
    };
    match socket {
        Ok(socket) => shared.borrow_mut().socket = Some(socket),
        Err(error) => {
            let waiters = with_state_change(shared, Inner::stop);
            report(shared, error);
            settle(waiters, Err(error));
        }
    }
}

/// The socket opened: start the heartbeat, resume the replies in flight, flush the outbox,
/// resolve `connect()`.
pub fn on_open(shared: &Shared) {
    let waiters = with_state_change(shared, |inner| {
        inner.life.opened();
        let interval = inner.options.heartbeat_interval_ms;
        if interval > 0.0 {
            let heartbeat =
                Heartbeat::new(interval, inner.options.heartbeat_timeout_ms, Date::now());
            inner.timer = Some(keepalive::next_tick(shared, heartbeat.first_tick_ms()));
            inner.heartbeat = Some(heartbeat);
        }
        let Inner {
            socket,
            outbox,
            generations,
            ..
        } = inner;
        if let Some(socket) = socket {
            // Resumes first: a chat in the outbox may be one the relay already answers.
            for (by, offset) in generations.resume_requests() {
                let _ = socket.send(&outgoing::resume_frame(by, offset));
            }
            outbox.flush(|text| socket.send(text).is_ok());
        }
        mem::take(&mut inner.waiters)
    });
    settle(waiters, Ok(()));
}

/// The socket closed (or could not open, or was declared dead) with `code`.
pub fn on_lost(shared: &Shared, code: u16) {
    let random = Math::random();
    let (outcome, waiters) = with_state_change(shared, |inner| {
        inner.release_connection();
        let outcome = inner.life.lost(code, random);
        let waiters = match outcome {
            AfterLoss::Reconnect { delay_ms, .. } => {
                inner.reconnect_due_at = Date::now() + delay_ms;
                inner.timer = Some(after(shared, delay_ms, reconnect_now));
                Vec::new()
            }
            AfterLoss::GiveUp => mem::take(&mut inner.waiters),
            AfterLoss::Refused(_) => {
                inner.page = None;
                mem::take(&mut inner.waiters)
            }
        };
        (outcome, waiters)
    });
    // Replies waiting for a `stream_expired`: the socket that would have carried it is gone.
    dispatch::report_lost(shared);
    let error = match outcome {
        AfterLoss::Reconnect { .. } => return,
        AfterLoss::GiveUp => ErrorCode::ReconnectFailed,
        AfterLoss::Refused(error) => error,
    };
    report(shared, error);
    settle(waiters, Err(error));
}

/// The reconnect delay is over (or cut short): make the next attempt.
fn reconnect_now(shared: &Shared) {
    let due = with_state_change(shared, |inner| {
        inner.timer = None;
        inner.life.reconnect_due()
    });
    if due {
        begin_attempt(shared);
    }
}

/// A `Timeout` that calls `then` on the manager after `ms` (if it still exists);
/// dropping it clears the timer.
pub fn after(shared: &Shared, ms: f64, then: fn(&Shared)) -> Timeout {
    let manager = shared.downgrade();
    Timeout::new(ms, move || {
        if let Some(shared) = manager.upgrade() {
            then(&shared);
        }
    })
}

/// `online`, `offline` or the page becoming visible.
pub fn on_page_event(shared: &Shared, event: PageEvent) {
    let state = shared.borrow().life.state();
    match (event, state) {
        (PageEvent::Online | PageEvent::Visible, ConnectionState::Reconnecting) => {
            reconnect_now(shared)
        }
        (PageEvent::Online, ConnectionState::Failed) => {
            start(shared);
        }
        (PageEvent::Offline, ConnectionState::Open) => keepalive::probe(shared),
        _ => {}
    }
}
