//! The browser client's URL rules (`chatwire::core::endpoint`) on an arbitrary base URL,
//! session id and token: `base 0xFF session_id 0xFF token` (0xFF is never part of UTF-8).
//!
//! The base is parsed by the `url` crate's WHATWG parser, standing in for the browser's `URL`
//! (as `browser/endpoint.rs` does with it), and `chat_url` gets its `href`; the parser's own
//! split of it decides what `chat_url` must accept. Checked, beyond "never panics":
//!
//! - `encode_uri_component` appends (what was in the buffer stays), writes only ASCII
//!   letters, digits, `-_.!~*'()` and `%XX` with upper-case hex, equals a per-character
//!   `encodeURIComponent` written from its definition, and percent-decodes back to the input;
//! - `chat_url` accepts exactly the bases the module documents (a `ws:`, `wss:`, `http:` or
//!   `https:` URL with a host, without credentials, query or fragment, no `%` in the host)
//!   and a session id that is not empty, `.` or `..` (the last two found by this target);
//! - what it builds, read back by the URL parser, has the mapped scheme, the base's host and
//!   port, no credentials and no fragment, the path `{base path}/ws/chat/{session id}/` with
//!   the session id as one segment that decodes to itself, and a query whose only pair is
//!   `token` = the token: neither can add a path segment, a query part or a fragment;
//! - `page_base` maps an `https:` page to `wss://{host}` and any other to `ws://{host}`.

#![no_main]

use chatwire::core::endpoint::{chat_url, encode_uri_component, page_base, FALLBACK_BASE};
use chatwire::core::error::ErrorCode;
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&byte| byte == 0xFF);
    let (Some(base), Some(session_id), Some(token)) = (parts.next(), parts.next(), parts.next())
    else {
        // Fewer parts: the whole input is one id to encode.
        if let Ok(text) = std::str::from_utf8(data) {
            check_encoding(text);
        }
        return;
    };
    let (Ok(base), Ok(session_id), Ok(token)) = (
        std::str::from_utf8(base),
        std::str::from_utf8(session_id),
        std::str::from_utf8(token),
    ) else {
        return;
    };
    check_encoding(session_id);
    check_encoding(token);
    let Ok(parsed_url) = Url::parse(base) else {
        return;
    };
    let parsed = as_browser_splits_it(&parsed_url);
    check_page_base(&parsed);
    let built = chat_url(&parsed.href, session_id, token);
    let acceptable = matches!(parsed_url.scheme(), "ws" | "wss" | "http" | "https")
        && parsed_url.username().is_empty()
        && parsed_url.password().is_none()
        && parsed_url.query().is_none()
        && parsed_url.fragment().is_none()
        && !parsed.host.is_empty()
        && !parsed.host.contains('%')
        && !matches!(session_id, "" | "." | "..");
    match built {
        Ok(url) => {
            assert!(
                acceptable,
                "accepted {base:?} → {parsed:?}, session {session_id:?}"
            );
            check_built(&url, &parsed, session_id, token);
        }
        Err(code) => {
            assert_eq!(code, ErrorCode::InvalidUrl);
            assert!(
                !acceptable,
                "refused {base:?} → {parsed:?}, session {session_id:?}"
            );
        }
    }
});

/// A URL as the browser's parser splits it: `URL.protocol`, `.host`, `.pathname`, `.href`.
#[derive(Debug)]
struct ParsedBase {
    protocol: String,
    host: String,
    pathname: String,
    href: String,
}

fn as_browser_splits_it(url: &Url) -> ParsedBase {
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => String::new(),
    };
    ParsedBase {
        protocol: format!("{}:", url.scheme()),
        host,
        pathname: url.path().to_owned(),
        href: url.as_str().to_owned(),
    }
}

const UNRESERVED: &[u8] = b"-_.!~*'()";

fn check_encoding(text: &str) {
    let mut out = String::from("kept/?#");
    encode_uri_component(text, &mut out);
    let encoded = out
        .strip_prefix("kept/?#")
        .expect("what was in the buffer stays");
    let bytes = encoded.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'%' {
            let hex = &bytes[i + 1..i + 3];
            assert!(
                hex.iter()
                    .all(|h| h.is_ascii_digit() || (b'A'..=b'F').contains(h)),
                "{encoded:?}"
            );
            i += 3;
        } else {
            assert!(
                byte.is_ascii_alphanumeric() || UNRESERVED.contains(&byte),
                "{encoded:?}"
            );
            i += 1;
        }
    }
    assert_eq!(encoded, reference_encode(text));
    let decoded = percent_decode_str(encoded).collect::<Vec<u8>>();
    assert_eq!(
        decoded,
        text.as_bytes(),
        "{encoded:?} does not decode to {text:?}"
    );
}

/// ECMAScript's `encodeURIComponent`, character by character: a character outside the
/// unreserved set becomes `%XX` for each byte of its UTF-8.
fn reference_encode(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || (c.is_ascii() && UNRESERVED.contains(&(c as u8))) {
            out.push(c);
        } else {
            let mut utf8 = [0; 4];
            for byte in c.encode_utf8(&mut utf8).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

fn check_page_base(parsed: &ParsedBase) {
    let base = page_base(&parsed.protocol, &parsed.host);
    let expected = match (parsed.host.is_empty(), parsed.protocol.as_str()) {
        (true, _) => FALLBACK_BASE.to_owned(),
        (false, "https:") => format!("wss://{}", parsed.host),
        (false, _) => format!("ws://{}", parsed.host),
    };
    assert_eq!(base, expected);
}

fn check_built(built: &str, base: &ParsedBase, session_id: &str, token: &str) {
    let scheme = match base.protocol.as_str() {
        "ws:" | "http:" => "ws",
        _ => "wss",
    };
    let url = Url::parse(built).unwrap_or_else(|e| panic!("{built:?} does not parse: {e}"));
    assert_eq!(url.scheme(), scheme, "{built}");
    let host = as_browser_splits_it(&url).host;
    assert_eq!(host, base.host, "{built}");
    assert_eq!((url.username(), url.password()), ("", None), "{built}");
    assert_eq!(url.fragment(), None, "{built}");

    let mut session_segment = String::new();
    encode_uri_component(session_id, &mut session_segment);
    let base_path = base.pathname.strip_suffix('/').unwrap_or(&base.pathname);
    let expected_path = format!("{base_path}/ws/chat/{session_segment}/");
    assert_eq!(
        url.path(),
        expected_path,
        "{built}: the session id {session_id:?} moved the path"
    );
    let segments: Vec<&str> = url.path_segments().expect("a path").collect();
    let [.., "ws", "chat", segment, ""] = segments[..] else {
        panic!("{built}: path segments {segments:?}");
    };
    let decoded = percent_decode_str(segment).decode_utf8().expect("UTF-8");
    assert_eq!(decoded, session_id, "{built}");

    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(
        pairs,
        [("token".to_owned(), token.to_owned())],
        "{built}: the token {token:?} changed the query"
    );
}
