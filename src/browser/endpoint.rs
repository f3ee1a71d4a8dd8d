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

/// The WebSocket base for the page this runs in (`wss:` on an `https:` page). Its scheme and
/// host come from `location.href` through the same URL parser, which reads them exactly as
/// `location.protocol` and `location.host` would, with one call into JS instead of two.
fn page_base() -> String {
    let page = super::js::window()
        .and_then(|window| window.location().href().ok())
        .and_then(|href| parse(&href).ok());
    match page {
        Some(page) => endpoint::page_base(&page.protocol, &page.host),
        None => endpoint::page_base("", ""),
    }
}
