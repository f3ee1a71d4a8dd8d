//! The endpoint URL, with the browser's own URL parser normalising the base; the rules are in
//! `core::endpoint`.

use alloc::string::String;

use web_sys::Url;

use crate::core::endpoint;
use crate::core::error::ErrorCode;

/// The endpoint for `session_id` and `token` on `base` (the `url` option), or on the page's
/// own host when there is none.
pub fn chat_url(base: Option<&str>, session_id: &str, token: &str) -> Result<String, ErrorCode> {
    let base = match base {
        Some(base) => Url::new(base).map_err(|_| ErrorCode::InvalidUrl)?.href(),
        None => page_base(),
    };
    endpoint::chat_url(&base, session_id, token)
}

/// The WebSocket base for the page this runs in (`wss:` on an `https:` page): `location`'s
/// protocol and host, as the URL parser wrote them.
fn page_base() -> String {
    let location = super::js::window().map(|window| window.location());
    let protocol = location.as_ref().and_then(|page| page.protocol().ok());
    let host = location.as_ref().and_then(|page| page.host().ok());
    endpoint::page_base(&protocol.unwrap_or_default(), &host.unwrap_or_default())
}
