//! The `authToken` argument: a string, or a function returning a string or a Promise of one,
//! called before every (re)connect so expiring tokens work.

use alloc::boxed::Box;
use alloc::string::String;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A `Promise`, with the one binding below.
    #[wasm_bindgen(extends = Promise)]
    type Settling;

    /// `promise.then(onFulfilled, onRejected)` handing both callbacks over to JS, whose GC
    /// frees them once the promise is settled and gone: js-sys' `then2` only lends them, so
    /// something would have to keep them until the promise settles.
    #[wasm_bindgen(method, js_name = then)]
    fn then_owned(
        this: &Settling,
        on_fulfilled: Closure<dyn FnMut(JsValue)>,
        on_rejected: Closure<dyn FnMut(JsValue)>,
    );
}

/// How the manager gets its token.
pub enum AuthToken {
    /// The same token every time.
    Fixed(String),
    /// Called before every attempt.
    Function(Function),
}

/// Where a token request stands right after asking.
pub enum TokenAnswer {
    /// The token is here.
    Ready(String),
    /// The function returned a Promise (or another non-string): see [`when_settled`].
    Pending(JsValue),
    /// The function threw.
    Failed,
}

impl AuthToken {
    /// Reads the constructor argument; `None` unless it is a string or a function.
    pub fn from_js(value: JsValue) -> Option<AuthToken> {
        if value.is_function() {
            return Some(AuthToken::Function(value.unchecked_into()));
        }
        text(&value).map(AuthToken::Fixed)
    }

    /// Asks for a token (calling the function, if it is one).
    pub fn request(&self) -> TokenAnswer {
        let function = match self {
            AuthToken::Fixed(token) => return TokenAnswer::Ready(token.clone()),
            AuthToken::Function(function) => function,
        };
        match function.call0(&JsValue::UNDEFINED) {
            Err(_) => TokenAnswer::Failed,
            Ok(answer) => match text(&answer) {
                Some(token) => TokenAnswer::Ready(token),
                None => TokenAnswer::Pending(answer),
            },
        }
    }
}

/// Calls `then` once a pending answer settles, with the token it fulfils to, or `None` when
/// it rejects or fulfils to something other than a string.
///
/// `Promise.resolve(answer).then(…)` with two closures JS owns, rather than a `JsFuture`
/// awaited in a `spawn_local` task: for one promise per attempt, wasm-bindgen-futures'
/// task queue cost 3,860 B gzip (README "Size").
///
/// Each closure holds a copy of `then` rather than sharing one through an `Rc<Cell<…>>`
/// (37 B gzip, README "Size"): a promise settles once, so only one of them runs, and only
/// once; hence `FnMut`, not an `FnOnce` kept in an `Option` (21 B gzip).
pub fn when_settled(answer: &JsValue, then: impl FnMut(Option<String>) + Clone + 'static) {
    let on = |fulfilled: bool| {
        let mut then = then.clone();
        Closure::<dyn FnMut(JsValue)>::wrap(Box::new(move |value: JsValue| {
            then(if fulfilled { text(&value) } else { None })
        }))
    };
    let settling: Settling = Promise::resolve(answer).unchecked_into();
    settling.then_owned(on(true), on(false));
}

/// `value` as a Rust string, if it is a JS string that is valid UTF-16 (a lone surrogate
/// could not be sent in a URL without being changed). The copy into wasm memory turns a lone
/// surrogate into U+FFFD, so such a string does not come back equal: one comparison instead
/// of js-sys' `is_valid_utf16`, which reads the string one `charCodeAt` at a time.
pub fn text(value: &JsValue) -> Option<String> {
    let string = value.as_string()?;
    (JsValue::from_str(&string) == *value).then_some(string)
}
