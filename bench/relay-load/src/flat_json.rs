//! Reading the bench's own JSON texts without a parser: the frames and SSE events the fake
//! upstream, the relay and relay-floor write are flat, and their string values have no
//! escapes. Shared by `relay-load` and `relay-floor` (`src/bin/relay-floor.rs` includes it by
//! path: the package has no library target).

/// The string value of `"key":"…"` in a flat JSON text (values here have no escapes).
pub fn string_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let pattern = format!("\"{key}\":\"");
    let start = json.find(&pattern)? + pattern.len();
    let len = json[start..].find('"')?;
    Some(&json[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_flat_string_fields() {
        let frame =
            r#"{"type":"stream_token","data":{"message_id":"msg_1","token":"123","seq":0}}"#;
        assert_eq!(string_field(frame, "type"), Some("stream_token"));
        assert_eq!(string_field(frame, "token"), Some("123"));
        assert_eq!(string_field(frame, "missing"), None);
    }
}
