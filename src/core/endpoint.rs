//! The chat endpoint: `{base}/ws/chat/{session_id}/?token={token}`.
//!
//! The browser's URL parser normalises the `url` option (see `browser/endpoint.rs`); the rules
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

/// `(how the href of a base with this scheme begins, the WebSocket scheme it maps to)`: the
/// scheme with its `//`, one prefix to strip (two were 44 B gzip more, README "Size").
const SCHEMES: [(&str, &str); 4] = [
    ("ws://", "ws://"),
    ("wss://", "wss://"),
    ("http://", "ws://"),
    ("https://", "wss://"),
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

/// The endpoint URL for `session_id` and `token` on the base `base_href`, a URL as the
/// browser's `URL` parser wrote it (`URL.href`). For the schemes above that is
/// `{protocol}//{credentials@}{host}{path}{?query}{#fragment}`, so the base is read from it
/// rather than from `URL.protocol`, `.host` and `.pathname`: three imports and three strings
/// copied into wasm (README "Size").
pub fn chat_url(base_href: &str, session_id: &str, token: &str) -> Result<String, ErrorCode> {
    let (scheme, host_and_path) = SCHEMES
        .iter()
        .find_map(|(prefix, scheme)| Some((*scheme, base_href.strip_prefix(prefix)?)))
        .ok_or(ErrorCode::InvalidUrl)?;
    if !is_host_and_path(host_and_path) || matches!(session_id, "" | "." | "..") {
        return Err(ErrorCode::InvalidUrl);
    }
    // `"/"`, not `'/'`, here and in `is_host_and_path`: a `char` pattern decodes the UTF-8
    // at that end of the string (84 B gzip for the two, README "Size").
    let slash = if host_and_path.ends_with("/") {
        ""
    } else {
        "/"
    };
    let mut url = join(&[scheme, host_and_path, slash, "ws/chat/"]);
    encode_uri_component(session_id, &mut url);
    url.push_str("/?token=");
    encode_uri_component(token, &mut url);
    Ok(url)
}

/// Whether `rest`, a base URL after its `protocol//`, is a host and a path only: the host
/// not empty, without credentials (which end with `@`) or a `%` (Chromium percent-encodes
/// characters, such as spaces, that the URL standard and Firefox refuse in a host), and no
/// query or fragment (`?`, `#`). Byte by byte: `str::contains(char)` links core's memchr.
fn is_host_and_path(rest: &str) -> bool {
    let mut in_host = true;
    for byte in rest.bytes() {
        match byte {
            b'/' => in_host = false,
            b'?' | b'#' => return false,
            b'@' | b'%' if in_host => return false,
            _ => {}
        }
    }
    !rest.is_empty() && !rest.starts_with("/")
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

    #[test]
    fn follows_the_django_channels_path() {
        let url = chat_url("ws://localhost:8000/", "session_123", "abc");
        assert_eq!(
            url.as_deref(),
            Ok("ws://localhost:8000/ws/chat/session_123/?token=abc")
        );
        let url = chat_url("https://chat.example/api", "s", "t");
        assert_eq!(
            url.as_deref(),
            Ok("wss://chat.example/api/ws/chat/s/?token=t")
        );
        let url = chat_url("http://h:9/api/", "s", "t");
        assert_eq!(url.as_deref(), Ok("ws://h:9/api/ws/chat/s/?token=t"));
        // The page's base, which has no path.
        let url = chat_url(&page_base("https:", "chat.example:8443"), "s", "t");
        assert_eq!(
            url.as_deref(),
            Ok("wss://chat.example:8443/ws/chat/s/?token=t")
        );
    }

    #[test]
    fn encodes_like_encode_uri_component() {
        let url = chat_url("ws://h/", "a b/c?", "x+y=z&é");
        assert_eq!(
            url.as_deref(),
            Ok("ws://h/ws/chat/a%20b%2Fc%3F/?token=x%2By%3Dz%26%C3%A9")
        );
        let url = chat_url("ws://h/", "-_.!~*'()", "");
        assert_eq!(url.as_deref(), Ok("ws://h/ws/chat/-_.!~*'()/?token="));
    }

    #[test]
    fn refuses_other_schemes_credentials_queries_and_odd_hosts() {
        let bad = [
            "ftp://h/",
            "wsx://h/",
            "ws:/h/",
            "ws://",
            "ws:///",
            "ws://h%20h/",
            "ws://h/?x=1",
            "ws://h/?",
            "ws://h/#top",
            "ws://u@h/",
            "ws://u:p@h/",
            "localhost:8000",
        ];
        for base in bad {
            assert_eq!(
                chat_url(base, "s", "t"),
                Err(ErrorCode::InvalidUrl),
                "{base}"
            );
        }
        let empty_session = chat_url("ws://h/", "", "t");
        assert_eq!(empty_session, Err(ErrorCode::InvalidUrl));
    }

    #[test]
    fn a_path_may_hold_what_a_host_may_not() {
        let url = chat_url("wss://h/a@b/%20/", "s", "t");
        assert_eq!(url.as_deref(), Ok("wss://h/a@b/%20/ws/chat/s/?token=t"));
        let url = chat_url("ws://[::1]:8000/", "s", "t");
        assert_eq!(url.as_deref(), Ok("ws://[::1]:8000/ws/chat/s/?token=t"));
    }

    /// Found by `fuzz/fuzz_targets/core_endpoint.rs` (`crash-70ba76e8…`): `encodeURIComponent`
    /// leaves dots alone, so the session id `.` built `ws://h/ws/chat/./?token=…`, which the
    /// browser's URL parser reads as `ws://h/ws/chat/?token=…` (and `..` as `/ws/`).
    #[test]
    fn a_session_id_cannot_step_out_of_its_path_segment() {
        for dots in [".", ".."] {
            assert_eq!(
                chat_url("ws://h/", dots, "t"),
                Err(ErrorCode::InvalidUrl),
                "{dots}"
            );
        }
        let url = chat_url("ws://h/", "...", "t");
        assert_eq!(url.as_deref(), Ok("ws://h/ws/chat/.../?token=t"));
        let url = chat_url("ws://h/", "./..", "t");
        assert_eq!(url.as_deref(), Ok("ws://h/ws/chat/.%2F../?token=t"));
    }

    #[test]
    fn page_base_matches_the_page_scheme() {
        assert_eq!(page_base("https:", "chat.example"), "wss://chat.example");
        assert_eq!(page_base("http:", "127.0.0.1:8000"), "ws://127.0.0.1:8000");
        assert_eq!(page_base("file:", ""), FALLBACK_BASE);
    }
}
