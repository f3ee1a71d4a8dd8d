//! The chat endpoint: `{base}/ws/chat/{session_id}/?token={token}`.
//!
//! The browser's URL parser splits the `url` option (see `browser/endpoint.rs`); the rules
//! for what a base may be, and how the endpoint is put together, are here. A base must be an
//! absolute `ws:`, `wss:`, `http:` or `https:` URL (the last two map to `ws:`/`wss:`) with a
//! host and no credentials, query or fragment. Session id and token are percent-encoded as
//! `encodeURIComponent` does; a session id of `.` or `..` is refused, since a URL parser
//! reads either as a step in the path, whether percent-encoded or not.

use alloc::string::String;

use super::error::ErrorCode;
use super::text::join;

/// The base URL used when there is no page `location` to derive one from.
pub const FALLBACK_BASE: &str = "ws://localhost:8000";

/// A base URL as the browser's `URL` parser split it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedBase {
    /// `URL.protocol`, such as `wss:` (lower case).
    pub protocol: String,
    /// `URL.host`: host name and port.
    pub host: String,
    /// `URL.pathname`, at least `/` for these schemes.
    pub pathname: String,
    /// `URL.href`, the whole URL as the parser normalised it.
    pub href: String,
}

/// `(URL.protocol, the WebSocket scheme it maps to)`.
const SCHEMES: [(&str, &str); 4] = [
    ("ws:", "ws://"),
    ("wss:", "wss://"),
    ("http:", "ws://"),
    ("https:", "wss://"),
];

/// The WebSocket base for a page at `protocol` and `host` (`wss:` on an `https:` page), or
/// [`FALLBACK_BASE`] where there is no host.
pub fn page_base(protocol: &str, host: &str) -> String {
    if host.is_empty() {
        return FALLBACK_BASE.into();
    }
    let scheme = if protocol == "https:" {
        "wss://"
    } else {
        "ws://"
    };
    join(&[scheme, host])
}

/// The endpoint URL for `session_id` and `token` on `base`.
pub fn chat_url(base: &ParsedBase, session_id: &str, token: &str) -> Result<String, ErrorCode> {
    let scheme = SCHEMES
        .iter()
        .find(|(protocol, _)| *protocol == base.protocol)
        .map(|(_, scheme)| *scheme)
        .ok_or(ErrorCode::InvalidUrl)?;
    // `href` is exactly protocol, host and path when there are no credentials, query or
    // fragment. A `%` in the host is Chromium percent-encoding characters, such as spaces,
    // that the URL standard (and Firefox) refuse in a host. (Looked for byte by byte:
    // `str::contains(char)` links core's memchr, 68 B gzip for this one check.)
    let plain = join(&[base.protocol.as_str(), "//", &base.host, &base.pathname]);
    if base.href != plain
        || base.host.is_empty()
        || base.host.bytes().any(|byte| byte == b'%')
        || matches!(session_id, "" | "." | "..")
    {
        return Err(ErrorCode::InvalidUrl);
    }
    let slash = if base.pathname.ends_with('/') {
        ""
    } else {
        "/"
    };
    let mut url = join(&[scheme, &base.host, &base.pathname, slash, "ws/chat/"]);
    encode_uri_component(session_id, &mut url);
    url.push_str("/?token=");
    encode_uri_component(token, &mut url);
    Ok(url)
}

/// Appends `text` to `out` percent-encoded as JS `encodeURIComponent` does: ASCII letters,
/// digits and `-_.!~*'()` stay, every other byte of the UTF-8 becomes `%XX`.
pub fn encode_uri_component(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        // `matches!`, not `b"-_.!~*'()".contains`: that inlines a word-at-a-time memchr
        // (86 B gzip).
        if byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
            )
        {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the browser's parser gives for the simple bases used here.
    fn parsed(protocol: &str, host: &str, pathname: &str) -> ParsedBase {
        ParsedBase {
            protocol: protocol.into(),
            host: host.into(),
            pathname: pathname.into(),
            href: join(&[protocol, "//", host, pathname]),
        }
    }

    #[test]
    fn follows_the_django_channels_path() {
        let url = chat_url(&parsed("ws:", "localhost:8000", "/"), "session_123", "abc");
        assert_eq!(
            url.as_deref(),
            Ok("ws://localhost:8000/ws/chat/session_123/?token=abc")
        );
        let url = chat_url(&parsed("https:", "chat.example", "/api"), "s", "t");
        assert_eq!(
            url.as_deref(),
            Ok("wss://chat.example/api/ws/chat/s/?token=t")
        );
        let url = chat_url(&parsed("http:", "h:9", "/api/"), "s", "t");
        assert_eq!(url.as_deref(), Ok("ws://h:9/api/ws/chat/s/?token=t"));
    }

    #[test]
    fn encodes_like_encode_uri_component() {
        let url = chat_url(&parsed("ws:", "h", "/"), "a b/c?", "x+y=z&é");
        assert_eq!(
            url.as_deref(),
            Ok("ws://h/ws/chat/a%20b%2Fc%3F/?token=x%2By%3Dz%26%C3%A9")
        );
        let url = chat_url(&parsed("ws:", "h", "/"), "-_.!~*'()", "");
        assert_eq!(url.as_deref(), Ok("ws://h/ws/chat/-_.!~*'()/?token="));
    }

    #[test]
    fn refuses_other_schemes_credentials_queries_and_odd_hosts() {
        let bad = [
            parsed("ftp:", "h", "/"),
            parsed("ws:", "", "/"),
            parsed("ws:", "h%20h", "/"),
            ParsedBase {
                href: "ws://h/?x=1".into(),
                ..parsed("ws:", "h", "/")
            },
            ParsedBase {
                href: "ws://u@h/".into(),
                ..parsed("ws:", "h", "/")
            },
        ];
        for base in bad {
            assert_eq!(
                chat_url(&base, "s", "t"),
                Err(ErrorCode::InvalidUrl),
                "{base:?}"
            );
        }
        let empty_session = chat_url(&parsed("ws:", "h", "/"), "", "t");
        assert_eq!(empty_session, Err(ErrorCode::InvalidUrl));
    }

    /// Found by `fuzz/fuzz_targets/core_endpoint.rs` (`crash-70ba76e8…`): `encodeURIComponent`
    /// leaves dots alone, so the session id `.` built `ws://h/ws/chat/./?token=…`, which the
    /// browser's URL parser reads as `ws://h/ws/chat/?token=…` (and `..` as `/ws/`).
    #[test]
    fn a_session_id_cannot_step_out_of_its_path_segment() {
        let base = parsed("ws:", "h", "/");
        for dots in [".", ".."] {
            assert_eq!(
                chat_url(&base, dots, "t"),
                Err(ErrorCode::InvalidUrl),
                "{dots}"
            );
        }
        let url = chat_url(&base, "...", "t");
        assert_eq!(url.as_deref(), Ok("ws://h/ws/chat/.../?token=t"));
        let url = chat_url(&base, "./..", "t");
        assert_eq!(url.as_deref(), Ok("ws://h/ws/chat/.%2F../?token=t"));
    }

    #[test]
    fn page_base_matches_the_page_scheme() {
        assert_eq!(page_base("https:", "chat.example"), "wss://chat.example");
        assert_eq!(page_base("http:", "127.0.0.1:8000"), "ws://127.0.0.1:8000");
        assert_eq!(page_base("file:", ""), FALLBACK_BASE);
    }
}
