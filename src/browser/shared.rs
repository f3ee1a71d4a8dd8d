//! The state a manager shares with its socket listeners, timer and token future, and the
//! one rule for touching it: no `RefCell` borrow is held while JS runs, because a callback
//! may call back into the manager (`sendMessage`, `disconnect`, …).
//!
//! The manager holds the only strong reference; every listener and timer holds a [`Weak`]
//! one, so freeing the manager drops the state, and with it every listener and timer.

use alloc::boxed::Box;
use alloc::rc::{Rc, Weak};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Ref, RefCell, RefMut};
use core::mem;

use js_sys::{Function, JsString, Promise};
use wasm_bindgen::prelude::*;

use super::auth_token::AuthToken;
use super::callbacks::{invoke, Callbacks, Slot};
use super::dispatch::FrameKeys;
use super::js;
use super::page_life::PageLife;
use super::socket::Socket;
use super::timer::Timeout;
use crate::core::error::ErrorCode;
use crate::core::generations::{Generation, Generations, StreamText};
use crate::core::heartbeat::Heartbeat;
use crate::core::options::Options;
use crate::core::outbox::Outbox;
use crate::core::state::{ConnectionState, Lifecycle};

/// A manager's state, shared with what it listens to.
pub struct Shared(Rc<RefCell<Inner>>);

/// What listeners and timers hold: they do nothing once the manager is freed.
#[derive(Clone)]
pub struct WeakShared(Weak<RefCell<Inner>>);

impl Shared {
    pub fn new(inner: Inner) -> Shared {
        Shared(Rc::new(RefCell::new(inner)))
    }

    /// The state, to read. Borrowing never fails while the rule above holds; if it is broken
    /// this throws instead of panicking like `RefCell::borrow`, whose panic paths (a message
    /// and a caller location per call) cost the package 422 B gzip (README "Size").
    pub fn borrow(&self) -> Ref<'_, Inner> {
        self.0.try_borrow().unwrap_or_else(|_| borrowed_twice())
    }

    /// The state, to change; see [`Shared::borrow`].
    pub fn borrow_mut(&self) -> RefMut<'_, Inner> {
        self.0.try_borrow_mut().unwrap_or_else(|_| borrowed_twice())
    }

    /// The state, to change, unless it is borrowed (`free()` from inside a callback).
    pub fn try_borrow_mut(&self) -> Option<RefMut<'_, Inner>> {
        self.0.try_borrow_mut().ok()
    }

    pub fn downgrade(&self) -> WeakShared {
        WeakShared(Rc::downgrade(&self.0))
    }
}

impl WeakShared {
    /// The manager's state, unless the manager was freed.
    pub fn upgrade(&self) -> Option<Shared> {
        self.0.upgrade().map(Shared)
    }
}

#[cold]
fn borrowed_twice() -> ! {
    wasm_bindgen::throw_str("chatwire: internal error: the manager's state was borrowed twice")
}

/// A JS string that tokens are concatenated onto in JS: the streamed text never crosses
/// into wasm memory.
#[derive(Clone)]
pub struct JsText(pub JsValue);

impl StreamText for JsText {
    fn append(&mut self, token: &Self) {
        self.0 = self.0.unchecked_ref::<JsString>().concat(&token.0).into();
    }
}

/// A pending `connect()` promise, held by its `resolve` alone: a failure resolves it with a
/// rejected promise, which rejects it with the same error.
pub struct Waiter {
    resolve: Function,
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = Promise, extends = Promise)]
    type PromiseWithExecutor;

    /// `new Promise(executor)` with an executor made by us: js-sys' `Promise::new` takes a
    /// closure of `resolve` and `reject`, a closure type of its own that brings its own invoke
    /// shim and glue (168 B gzip with the `reject` it needs, README "Size").
    #[wasm_bindgen(constructor, js_class = "Promise")]
    fn new(executor: &Function) -> PromiseWithExecutor;
}

impl Waiter {
    /// A new pending promise, whose waiter joins the manager's `waiters`. The executor is
    /// the package's one closure type, `FnMut(JsValue)`, so it takes `resolve` only; it runs
    /// at once, while no borrow is held.
    pub fn promise(shared: &Shared) -> Promise {
        let manager = shared.downgrade();
        let executor = Closure::<dyn FnMut(JsValue)>::wrap(Box::new(move |resolve: JsValue| {
            if let Some(shared) = manager.upgrade() {
                let resolve = resolve.unchecked_into();
                shared.borrow_mut().waiters.push(Waiter { resolve });
            }
        }));
        PromiseWithExecutor::new(executor.as_ref().unchecked_ref()).into()
    }
}

/// Everything a manager knows.
pub struct Inner {
    pub session_id: String,
    pub auth_token: AuthToken,
    pub options: Options,
    pub life: Lifecycle,
    pub socket: Option<Socket>,
    pub heartbeat: Option<Heartbeat>,
    /// The one pending timer: the heartbeat's next tick while open, the next attempt
    /// while reconnecting (never both). Dropping it clears it.
    pub timer: Option<Timeout>,
    pub reconnect_due_at: f64,
    pub outbox: Outbox<String>,
    /// The replies in flight: their ids, last offset applied and text so far. Kept across
    /// reconnects (they are resumed), cleared by `disconnect()`.
    pub generations: Generations<JsValue, JsText>,
    /// Replies the relay could not resume, waiting a moment for its `stream_expired` error
    /// before they are reported as `stream_lost` (see `dispatch::report_lost`).
    pub lost: Vec<Generation<JsValue, JsText>>,
    /// When the `lost` replies are reported if no `stream_expired` names them first.
    pub lost_timer: Option<Timeout>,
    pub callbacks: Callbacks,
    pub waiters: Vec<Waiter>,
    /// The `online`/`offline`/`visibilitychange` listeners, from `connect()` until closed.
    pub page: Option<PageLife>,
    /// Bumped for every attempt, so a late token answer for an old one is ignored.
    pub attempt: u32,
    pub sent_chats: u32,
    pub keys: FrameKeys,
}

impl Inner {
    pub fn new(session_id: String, auth_token: AuthToken, options: Options) -> Inner {
        Inner {
            session_id,
            auth_token,
            life: Lifecycle::new(options.reconnect),
            outbox: Outbox::new(options.outbox_limit),
            options,
            socket: None,
            heartbeat: None,
            timer: None,
            reconnect_due_at: 0.0,
            generations: Generations::default(),
            lost: Vec::new(),
            lost_timer: None,
            callbacks: Callbacks::default(),
            waiters: Vec::new(),
            page: None,
            attempt: 0,
            sent_chats: 0,
            keys: FrameKeys::new(),
        }
    }

    /// Stops for good (`closed`): no socket, timer or page listeners, no replies to resume
    /// (the socket closes with 1000, "I am gone", so the relay stops them). Returns the pending
    /// `connect()` promises for the caller to reject once no borrow is held.
    pub fn stop(&mut self) -> Vec<Waiter> {
        self.life.stop();
        if let Some(socket) = &self.socket {
            socket.close_for_good();
        }
        self.release_connection();
        self.generations.clear();
        self.lost.clear();
        self.lost_timer = None;
        self.page = None;
        mem::take(&mut self.waiters)
    }

    /// Drops the socket and timer (the replies in flight stay, to be resumed); later token
    /// answers are ignored.
    pub fn release_connection(&mut self) {
        self.socket = None;
        self.heartbeat = None;
        self.timer = None;
        self.attempt = self.attempt.wrapping_add(1);
    }
}

/// Runs `change` on the state, then calls `onStateChange` if the state moved.
pub fn with_state_change<R>(shared: &Shared, change: impl FnOnce(&mut Inner) -> R) -> R {
    let (result, before) = {
        let mut inner = shared.borrow_mut();
        let before = inner.life.state();
        (change(&mut inner), before)
    };
    announce_state(shared, before);
    result
}

/// Calls `onStateChange` if the state is no longer `before`.
fn announce_state(shared: &Shared, before: ConnectionState) {
    let after = shared.borrow().life.state();
    if before != after {
        emit(shared, Slot::StateChange, &after.as_str().into());
    }
}

/// Calls the callback in `slot` with `arg`.
pub fn emit(shared: &Shared, slot: Slot, arg: &JsValue) {
    let callback = shared.borrow().callbacks.get(slot);
    invoke(callback, slot, arg);
}

/// Reports an error of the manager's own to `onError`.
pub fn report(shared: &Shared, code: ErrorCode) {
    emit(shared, Slot::Error, &js::error_frame(code, &[]));
}

/// Resolves (or rejects, with an `Error` carrying `code`) every pending `connect()`. A
/// rejected promise is made per waiter, never without one: unawaited, it would be reported.
pub fn settle(waiters: Vec<Waiter>, outcome: Result<(), ErrorCode>) {
    for waiter in waiters {
        let value = match outcome {
            Ok(()) => JsValue::UNDEFINED,
            Err(code) => Promise::reject(&js::coded_error(code)).into(),
        };
        let _ = waiter.resolve.call1(&JsValue::UNDEFINED, &value);
    }
}
