//! The endpoint URL, with the browser's own URL parser normalising the base; the rules are in
//! `core::endpoint`.
//!
//! The fields of the `URL` and of `location` are read with the plain `Reflect.get` binding
//! (`js::get`; their getters cannot throw) rather than web-sys' getters: each of those is an
//! import whose glue copies the string into wasm memory, and `Location` a type of its own
//! (309 B gzip for the four, README "Size").

use alloc::string::String;

use wasm_bindgen::JsValue;
use web_sys::Url;

use super::js::{get, window};
use crate::core::endpoint;
use crate::core::error::ErrorCode;

/// The endpoint for `session_id` and `token` on `base` (the `url` option), or on the page's
/// own host when there is none.
pub fn chat_url(base: Option<&str>, session_id: &str, token: &str) -> Result<String, ErrorCode> {
    let base = match base {
        Some(base) => {
            let url = Url::new(base).map_err(|_| ErrorCode::InvalidUrl)?;
            field(&url, "href")
        }
        None => page_base(),
    };
    endpoint::chat_url(&base, session_id, token)
}

/// The WebSocket base for the page this runs in (`wss:` on an `https:` page): `location`'s
/// protocol and host, as the URL parser wrote them.
fn page_base() -> String {
    let Some(window) = window() else {
        return endpoint::page_base("", "");
    };
    let location = get(&window, &"location".into());
    endpoint::page_base(&field(&location, "protocol"), &field(&location, "host"))
}

/// The string field `name` of `object`, or `""`.
fn field(object: &JsValue, name: &str) -> String {
    get(object, &name.into()).as_string().unwrap_or_default()
}
