//! The endpoint URL, with the browser's own URL parser splitting the base; the rules are in
//! `core::endpoint`.

use alloc::string::String;

use web_sys::Url;

use crate::core::endpoint::{self, ParsedBase};
use crate::core::error::ErrorCode;

/// The endpoint for `session_id` and `token` on `base` (the `url` option), or on the page's
/// own host when there is none.
pub fn chat_url(base: Option<&str>, session_id: &str, token: &str) -> Result<String, ErrorCode> {
    let base = match base {
        Some(base) => parse(base)?,
        None => parse(&page_base())?,
    };
    endpoint::chat_url(&base, session_id, token)
}

fn parse(base: &str) -> Result<ParsedBase, ErrorCode> {
    let url = Url::new(base).map_err(|_| ErrorCode::InvalidUrl)?;
    Ok(ParsedBase {
        protocol: url.protocol(),
        host: url.host(),
        pathname: url.pathname(),
        href: url.href(),
    })
}

/// The WebSocket base for the page this runs in (`wss:` on an `https:` page).
fn page_base() -> String {
    let location = super::js::window().map(|window| window.location());
    let part = |read: fn(&web_sys::Location) -> Result<String, wasm_bindgen::JsValue>| {
        location
            .as_ref()
            .and_then(|l| read(l).ok())
            .unwrap_or_default()
    };
    endpoint::page_base(
        &part(web_sys::Location::protocol),
        &part(web_sys::Location::host),
    )
}
