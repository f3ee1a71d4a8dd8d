//! The `authToken` argument: a string, or a function returning a string or a Promise of one,
//! called before every (re)connect so expiring tokens work.

use alloc::string::String;

use js_sys::{Function, JsString, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

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
    /// The function returned a Promise (or another non-string): await [`settled_token`].
    Pending(JsValue),
    /// The function threw.
    Failed,
}

impl AuthToken {
    /// Reads the constructor argument; `None` unless it is a string or a function.
    pub fn from_js(value: JsValue) -> Option<AuthToken> {
        if let Some(function) = value.dyn_ref::<Function>() {
            return Some(AuthToken::Function(function.clone()));
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

/// Awaits a pending answer: the token it settles to, or `None` when it rejects or settles
/// to something other than a string.
pub async fn settled_token(answer: JsValue) -> Option<String> {
    let settled = JsFuture::from(Promise::resolve(&answer)).await.ok()?;
    text(&settled)
}

/// `value` as a Rust string, if it is a JS string that is valid UTF-16 (a lone surrogate
/// could not be sent in a URL without being changed).
pub fn text(value: &JsValue) -> Option<String> {
    let string = value.dyn_ref::<JsString>()?;
    string.is_valid_utf16().then(|| string.into())
}
