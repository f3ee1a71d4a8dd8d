//! The chat endpoint URL: `{base}/ws/chat/{session_id}/?token={token}`.
//!
//! Built from JS strings with the browser's own URL parser, so nothing is copied into
//! wasm: `base` must parse as an absolute URL with scheme `ws:`, `wss:`, `http:` or
//! `https:` (mapped to `ws:`/`wss:`), a host, and no credentials, query or fragment.
//! Session id and token are encoded with `encodeURIComponent`.

use wasm_bindgen::prelude::*;

use crate::error::ErrorCode;
use crate::js::{concat, encode_uri_component, get_plain, global, JsString, Url};

/// The base URL used when there is no page `location` to derive one from.
pub const FALLBACK_BASE: &str = "ws://localhost:8000";

/// `(URL.protocol, the WebSocket scheme it maps to)`.
const SCHEMES: [(&str, &str); 4] = [
    ("ws:", "ws://"),
    ("wss:", "wss://"),
    ("http:", "ws://"),
    ("https:", "wss://"),
];

/// The WebSocket base for the page this runs in (`wss:` on an `https:` page), or
/// [`FALLBACK_BASE`] where there is no page.
pub fn page_base() -> JsValue {
    let location = get_plain(&global(), &JsValue::from_str("location"));
    let host = get_plain(&location, &JsValue::from_str("host"));
    if !host.is_string() || host == "" {
        return JsValue::from_str(FALLBACK_BASE);
    }
    let secure = get_plain(&location, &JsValue::from_str("protocol")) == "https:";
    concat(&[&if secure { "wss://" } else { "ws://" }, &host])
}

/// Builds the endpoint URL for `session_id` and `token` (JS strings) on `base`.
pub fn chat_url(
    base: &JsValue,
    session_id: &JsValue,
    token: &JsValue,
) -> Result<JsValue, ErrorCode> {
    let invalid = |_| ErrorCode::InvalidUrl;
    let url = Url::new(base).map_err(invalid)?;
    let part = |name: &str| get_plain(&url, &JsValue::from_str(name));
    let protocol = part("protocol");
    let scheme = SCHEMES
        .iter()
        .find(|(known, _)| protocol == *known)
        .map(|(_, scheme)| *scheme)
        .ok_or(ErrorCode::InvalidUrl)?;
    let host = part("host");
    let path = part("pathname");
    // `href` is exactly protocol, host and path when there are no credentials, query or
    // fragment. (The parser never leaves the host of a ws/http URL empty.) A `%` in the
    // host is Chromium percent-encoding characters, such as spaces, that the URL standard
    // (and Firefox) refuse in a host.
    let plain = concat(&[&protocol, &"//", &host, &path]);
    let odd_host = host.unchecked_ref::<JsString>().includes("%");
    if part("href") != plain || odd_host || session_id == "" {
        return Err(ErrorCode::InvalidUrl);
    }
    let slash = if path.unchecked_ref::<JsString>().ends_with("/") {
        ""
    } else {
        "/"
    };
    Ok(concat(&[
        &scheme,
        &host,
        &path,
        &slash,
        &"ws/chat/",
        &encode_uri_component(session_id).map_err(invalid)?,
        &"/?token=",
        &encode_uri_component(token).map_err(invalid)?,
    ]))
}
