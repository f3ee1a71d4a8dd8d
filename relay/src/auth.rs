//! Who may open a chat socket: client tokens (compared in constant time) and browser Origins.
//!
//! Both checks are pure so they are unit-tested here; the WebSocket handler only applies them
//! (a foreign Origin gets HTTP 403 before the upgrade, a bad token a 4401 close after it).

use subtle::{ConditionallySelectable, ConstantTimeEq};

/// Longest accepted client token, in bytes.
const MAX_TOKEN_LEN: usize = 512;

/// Which configured token a client presented (its position in `RELAY_TOKENS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenId(pub u32);

/// The configured client tokens. Empty means dev mode: any non-empty token is accepted.
#[derive(Clone, Default)]
pub struct TokenSet {
    tokens: Vec<Vec<u8>>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenSet({} tokens, values redacted)", self.tokens.len())
    }
}

impl TokenSet {
    /// Parses a comma-separated list; blanks between commas are ignored.
    pub fn parse(list: &str) -> Result<TokenSet, String> {
        let mut tokens = Vec::new();
        for token in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if token.len() > MAX_TOKEN_LEN || token.chars().any(|c| c.is_control()) {
                return Err(format!(
                    "token #{} is longer than {MAX_TOKEN_LEN} bytes or has control characters",
                    tokens.len() + 1
                ));
            }
            tokens.push(token.as_bytes().to_vec());
        }
        Ok(TokenSet { tokens })
    }

    /// Builds a set from literal tokens (tests and embedding).
    pub fn from_tokens<I: IntoIterator<Item = S>, S: Into<String>>(tokens: I) -> TokenSet {
        TokenSet {
            tokens: tokens.into_iter().map(|t| t.into().into_bytes()).collect(),
        }
    }

    /// No tokens configured (dev mode).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Checks `presented` against every configured token without short-circuiting, so the
    /// time taken does not reveal which token (or how much of one) matched.
    pub fn accepts(&self, presented: Option<&str>) -> bool {
        self.check(presented).is_some()
    }

    /// Like [`TokenSet::accepts`], and says which token matched: conversations are kept per
    /// token, so one token's holder cannot reach another's history by guessing ids.
    /// In dev mode every accepted token is [`TokenId`] 0.
    pub fn check(&self, presented: Option<&str>) -> Option<TokenId> {
        let presented = presented.filter(|t| !t.is_empty())?;
        if self.tokens.is_empty() {
            return Some(TokenId(0));
        }
        let presented = presented.as_bytes();
        let mut matched = subtle::Choice::from(0u8);
        let mut index = 0u32;
        for (i, token) in self.tokens.iter().enumerate() {
            let equal = token.as_slice().ct_eq(presented);
            index = u32::conditional_select(&index, &(i as u32), equal);
            matched |= equal;
        }
        bool::from(matched).then_some(TokenId(index))
    }

    /// The configured tokens, for log redaction.
    pub fn secrets(&self) -> impl Iterator<Item = &[u8]> {
        self.tokens.iter().map(Vec::as_slice)
    }
}

/// Which browser Origins may open a socket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OriginPolicy {
    /// Nothing configured: requests without Origin (non-browser clients), the relay's own
    /// host, and loopback pages (`http://localhost:*`, `http://127.0.0.1:*`, `http://[::1]:*`).
    #[default]
    SameHostOrLoopback,
    /// `*`: any Origin.
    Any,
    /// Exactly these origins (lower-case `scheme://host[:port]`), plus requests without Origin.
    List(Vec<String>),
}

fn normalise(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

fn origin_host(origin: &str) -> Option<&str> {
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
}

fn is_loopback_host(host_port: &str) -> bool {
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl OriginPolicy {
    /// Parses `RELAY_ALLOWED_ORIGINS`: empty → default policy, `*` → any, else a list.
    pub fn parse(list: &str) -> Result<OriginPolicy, String> {
        let items: Vec<String> = list
            .split(',')
            .map(normalise)
            .filter(|o| !o.is_empty())
            .collect();
        if items.is_empty() {
            return Ok(OriginPolicy::SameHostOrLoopback);
        }
        if items.iter().any(|o| o == "*") {
            return Ok(OriginPolicy::Any);
        }
        for item in &items {
            match origin_host(item) {
                Some(host) if !host.is_empty() && !host.contains('/') => {}
                _ => {
                    return Err(format!(
                        "{item:?} is not an origin like https://chat.example.com"
                    ))
                }
            }
        }
        Ok(OriginPolicy::List(items))
    }

    /// Whether a request with this `Origin` (and `Host`) header may upgrade.
    ///
    /// In dev mode the default policy admits loopback pages only: "same host" there could be
    /// a DNS-rebinding page (`http://evil.example:8000` resolving to 127.0.0.1) spending the
    /// developer's API key through a relay that accepts any token.
    pub fn allows(&self, origin: Option<&str>, host: Option<&str>, dev_mode: bool) -> bool {
        let Some(origin) = origin else {
            return true;
        };
        let origin = normalise(origin);
        match self {
            OriginPolicy::Any => true,
            OriginPolicy::List(list) => list.contains(&origin),
            OriginPolicy::SameHostOrLoopback => match origin_host(&origin) {
                Some(origin_host) => {
                    is_loopback_host(origin_host)
                        || (!dev_mode && host.is_some_and(|h| h.eq_ignore_ascii_case(origin_host)))
                }
                None => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_exactly() {
        let set = TokenSet::parse("alpha, beta ,,").unwrap();
        assert!(set.accepts(Some("alpha")));
        assert!(set.accepts(Some("beta")));
        assert!(!set.accepts(Some("alph")));
        assert!(!set.accepts(Some("alphaa")));
        assert!(!set.accepts(Some("")));
        assert!(!set.accepts(None));
        assert_eq!(set.check(Some("alpha")), Some(TokenId(0)));
        assert_eq!(set.check(Some("beta")), Some(TokenId(1)));
        assert_eq!(set.check(Some("gamma")), None);
    }

    #[test]
    fn dev_mode_accepts_any_non_empty_token() {
        let set = TokenSet::default();
        assert!(set.accepts(Some("dev")));
        assert!(!set.accepts(Some("")));
        assert!(!set.accepts(None));
        assert_eq!(
            format!("{:?}", TokenSet::parse("s3cret").unwrap()),
            "TokenSet(1 tokens, values redacted)"
        );
    }

    #[test]
    fn default_origin_policy_allows_same_host_and_loopback_only() {
        let p = OriginPolicy::default();
        assert!(p.allows(None, Some("chat.example.com"), false));
        assert!(p.allows(Some("http://localhost:5173"), Some("127.0.0.1:8000"), true));
        assert!(p.allows(Some("http://127.0.0.1:8000"), Some("127.0.0.1:8000"), true));
        assert!(p.allows(Some("http://[::1]:8000"), None, true));
        assert!(p.allows(
            Some("https://chat.example.com"),
            Some("chat.example.com"),
            false
        ));
        assert!(!p.allows(
            Some("https://evil.example"),
            Some("chat.example.com"),
            false
        ));
        assert!(!p.allows(Some("null"), Some("chat.example.com"), false));
        assert!(!p.allows(Some("http://localhost.evil.example"), None, true));
    }

    #[test]
    fn dev_mode_refuses_same_host_pages_that_are_not_loopback() {
        // A DNS-rebinding page: its Origin and Host agree, but neither is loopback.
        let p = OriginPolicy::default();
        let page = Some("http://rebind.evil.example:8000");
        assert!(!p.allows(page, Some("rebind.evil.example:8000"), true));
        assert!(p.allows(page, Some("rebind.evil.example:8000"), false));
    }

    #[test]
    fn configured_origin_list_is_exact() {
        let p = OriginPolicy::parse("https://chat.example.com/, http://localhost:5173").unwrap();
        assert!(p.allows(Some("https://CHAT.example.com"), None, false));
        assert!(p.allows(Some("http://localhost:5173"), None, true));
        assert!(!p.allows(Some("http://localhost:5174"), None, true));
        assert!(!p.allows(Some("https://evil.example"), None, false));
        assert_eq!(OriginPolicy::parse("*").unwrap(), OriginPolicy::Any);
        assert!(OriginPolicy::parse("chat.example.com").is_err());
    }
}
