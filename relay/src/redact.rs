//! Keeping secrets out of logs: the API key, client tokens, bearer headers and `token=` query
//! parameters are replaced by `[redacted]` before any upstream body or URL is logged.

/// Replaces known secrets and secret-shaped substrings in text bound for the log.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

const MARK: &str = "[redacted]";

impl Redactor {
    /// A redactor for these secrets (empty strings are ignored).
    pub fn new<I: IntoIterator<Item = String>>(secrets: I) -> Redactor {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        // Longest first, so a secret containing another is removed whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Redactor { secrets }
    }

    /// `text` with every known secret, `Bearer …` value and `token=…` value masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MARK);
            }
        }
        let out = mask_after(&out, "Bearer ");
        mask_after(&out, "token=")
    }
}

/// Masks the word following each (ASCII case-insensitive) occurrence of `prefix`.
fn mask_after(text: &str, prefix: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let needle = prefix.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    while let Some(found) = lower[pos..].find(&needle) {
        let value_start = pos + found + prefix.len();
        out.push_str(&text[pos..value_start]);
        let value_len = text[value_start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '&' | '"' | '\'' | ',' | '}'))
            .unwrap_or(text.len() - value_start);
        if value_len > 0 && !text[value_start..].starts_with(MARK) {
            out.push_str(MARK);
        } else {
            out.push_str(&text[value_start..value_start + value_len]);
        }
        pos = value_start + value_len;
    }
    out.push_str(&text[pos..]);
    out
}

/// The path of a request URI with any query string dropped (queries carry the token).
pub fn path_only(uri: &axum::http::Uri) -> &str {
    uri.path()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_secrets_and_bearer_values_are_masked() {
        let r = Redactor::new(["sk-live-123".to_owned(), "tok-9".to_owned(), String::new()]);
        assert_eq!(
            r.redact(r#"{"error":"bad key sk-live-123","auth":"Bearer abc.def"}"#),
            r#"{"error":"bad key [redacted]","auth":"Bearer [redacted]"}"#
        );
        assert_eq!(
            r.redact("GET /ws/chat/s/?token=hunter2&x=1"),
            "GET /ws/chat/s/?token=[redacted]&x=1"
        );
        assert_eq!(r.redact("nothing here"), "nothing here");
        assert_eq!(r.redact("my tok-9 is"), "my [redacted] is");
    }
}
