//! The chat endpoint URL: `{base}/ws/chat/{session_id}/?token={token}`.

use alloc::borrow::ToOwned;
use alloc::string::String;

use crate::error::ErrorCode;

/// The base URL used when there is no page `location` to derive one from.
pub const FALLBACK_BASE: &str = "ws://localhost:8000";

/// The WebSocket base matching a page at `protocol` (`"https:"`, …) and `host`.
pub fn base_for_page(protocol: &str, host: &str) -> String {
    if host.is_empty() {
        return FALLBACK_BASE.to_owned();
    }
    let scheme = if protocol == "https:" {
        "wss://"
    } else {
        "ws://"
    };
    let mut base = String::with_capacity(scheme.len() + host.len());
    base.push_str(scheme);
    base.push_str(host);
    base
}

/// Builds the endpoint URL, encoding `session_id` and `token` as URI components.
///
/// `base` must be `ws://host[:port][/path]` or `wss://…`; `http(s)://` is accepted and
/// mapped to `ws(s)://`. A query or fragment in `base` is refused.
pub fn chat_url(base: &str, session_id: &str, token: &str) -> Result<String, ErrorCode> {
    let (scheme, rest) = split_scheme(base).ok_or(ErrorCode::InvalidUrl)?;
    let rest = rest.trim_end_matches('/');
    let host_len = rest.find('/').unwrap_or(rest.len());
    // `get` rather than indexing: nothing here can panic (a panic path costs wasm bytes).
    let host = rest.get(..host_len).unwrap_or_default();
    let forbidden = |c: char| matches!(c, '?' | '#' | ' ');
    if host.is_empty() || host.contains('@') || rest.contains(forbidden) || session_id.is_empty() {
        return Err(ErrorCode::InvalidUrl);
    }
    let mut url = String::with_capacity(base.len() + session_id.len() + token.len() + 24);
    url.push_str(scheme);
    url.push_str(rest);
    url.push_str("/ws/chat/");
    encode_component(session_id, &mut url);
    url.push_str("/?token=");
    encode_component(token, &mut url);
    Ok(url)
}

/// The WebSocket scheme for `base` and what follows `://`.
fn split_scheme(base: &str) -> Option<(&'static str, &str)> {
    const SCHEMES: [(&str, &str); 4] = [
        ("ws://", "ws://"),
        ("wss://", "wss://"),
        ("http://", "ws://"),
        ("https://", "wss://"),
    ];
    SCHEMES.iter().find_map(|(prefix, scheme)| {
        let matches = base.get(..prefix.len())?.eq_ignore_ascii_case(prefix);
        matches.then(|| Some((*scheme, base.get(prefix.len()..)?)))?
    })
}

/// Percent-encodes like JavaScript's `encodeURIComponent`.
fn encode_component(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in value.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0xf)] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_django_channels_path() {
        assert_eq!(
            chat_url("ws://localhost:8000", "session_123", "abc").unwrap(),
            "ws://localhost:8000/ws/chat/session_123/?token=abc"
        );
        assert_eq!(
            chat_url("wss://chat.example/api/", "s", "t").unwrap(),
            "wss://chat.example/api/ws/chat/s/?token=t"
        );
    }

    #[test]
    fn encodes_like_encode_uri_component() {
        assert_eq!(
            chat_url("ws://h", "a b/c?", "x+y=z&é").unwrap(),
            "ws://h/ws/chat/a%20b%2Fc%3F/?token=x%2By%3Dz%26%C3%A9"
        );
        assert_eq!(
            chat_url("ws://h", "-_.!~*'()", "").unwrap(),
            "ws://h/ws/chat/-_.!~*'()/?token="
        );
    }

    #[test]
    fn maps_http_schemes_to_websocket_ones() {
        assert_eq!(
            chat_url("HTTPS://h:9", "s", "t").unwrap(),
            "wss://h:9/ws/chat/s/?token=t"
        );
        assert_eq!(
            chat_url("http://h", "s", "t").unwrap(),
            "ws://h/ws/chat/s/?token=t"
        );
    }

    #[test]
    fn refuses_invalid_bases() {
        for bad in [
            "",
            "localhost:8000",
            "ftp://h",
            "ws://",
            "ws:///path",
            "ws://h?x=1",
            "ws://u@h",
            "ws://h h",
        ] {
            assert_eq!(
                chat_url(bad, "s", "t"),
                Err(ErrorCode::InvalidUrl),
                "{bad:?}"
            );
        }
        assert_eq!(chat_url("ws://h", "", "t"), Err(ErrorCode::InvalidUrl));
    }

    #[test]
    fn base_follows_the_page() {
        assert_eq!(
            base_for_page("https:", "chat.example"),
            "wss://chat.example"
        );
        assert_eq!(
            base_for_page("http:", "127.0.0.1:8000"),
            "ws://127.0.0.1:8000"
        );
        assert_eq!(base_for_page("file:", ""), FALLBACK_BASE);
    }
}
