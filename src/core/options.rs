//! The options bag of `new ChatWebSocketManager(sessionId, token, options)`: what was given
//! ([`OptionsBag`]) and the rules each option must follow ([`Options`]).
//!
//! The browser adapter reads the JS object (`browser/options.rs`); everything here is plain
//! Rust, tested natively.

use alloc::string::String;

use super::backoff::ReconnectPolicy;

/// The options object as given, every field optional (`null` or `undefined` keeps a default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionsBag {
    /// Base URL (`ws://host:port`, optionally with a path).
    pub url: Option<String>,
    /// Reconnect attempts after an unexpected close.
    pub max_reconnect_attempts: Option<f64>,
    /// First reconnect delay in ms; doubles per attempt.
    pub base_delay_ms: Option<f64>,
    /// Cap for any reconnect delay in ms.
    pub max_delay_ms: Option<f64>,
    /// Fraction 0..1 of each delay that is randomised.
    pub jitter: Option<f64>,
    /// Ping period in ms; 0 turns the heartbeat off.
    pub heartbeat_interval_ms: Option<f64>,
    /// How long to wait for any frame after a ping, in ms.
    pub heartbeat_timeout_ms: Option<f64>,
    /// Frames queued while not open.
    pub outbox_limit: Option<f64>,
}

impl OptionsBag {
    /// Sets the numeric option number `index` of [`OPTIONS`] (`url`, index 0, is text).
    pub fn set_number(&mut self, index: usize, value: f64) {
        let field = match index {
            1 => &mut self.max_reconnect_attempts,
            2 => &mut self.base_delay_ms,
            3 => &mut self.max_delay_ms,
            4 => &mut self.jitter,
            5 => &mut self.heartbeat_interval_ms,
            6 => &mut self.heartbeat_timeout_ms,
            7 => &mut self.outbox_limit,
            _ => return,
        };
        *field = Some(value);
    }
}

/// What kind of value an option takes, which decides its error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string (`url`).
    Text,
    /// A whole number from 0 to 1,000,000.
    Count,
    /// Milliseconds, from 0 to setTimeout's limit.
    Millis,
    /// A number from 0 to 1.
    Fraction,
}

/// Every option's JS name and kind, in the order of [`OptionsBag`]'s fields.
pub const OPTIONS: [(&str, Kind); 8] = [
    ("url", Kind::Text),
    ("maxReconnectAttempts", Kind::Count),
    ("baseDelayMs", Kind::Millis),
    ("maxDelayMs", Kind::Millis),
    ("jitter", Kind::Fraction),
    ("heartbeatIntervalMs", Kind::Millis),
    ("heartbeatTimeoutMs", Kind::Millis),
    ("outboxLimit", Kind::Count),
];

const MAX_COUNT: f64 = 1_000_000.0;
const MAX_MS: f64 = 2_147_483_647.0; // setTimeout's limit

/// Why an option was refused: the `TypeError` message names the option.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionError {
    /// The name is not one of the documented options (often a typo).
    Unknown(String),
    /// The value has the wrong JS type.
    WrongType(&'static str),
    /// A number outside its allowed range (or not whole where it must be).
    OutOfRange(&'static str),
}

impl OptionError {
    /// The sentence for the `TypeError`. (Joined with `concat`, not `format!`: the error
    /// path alone would otherwise link core's formatting machinery into the wasm.)
    pub fn message(&self) -> String {
        let (name, problem) = match self {
            OptionError::Unknown(name) => (name.as_str(), "` is not a known option (url, maxReconnectAttempts, baseDelayMs, maxDelayMs, jitter, heartbeatIntervalMs, heartbeatTimeoutMs, outboxLimit)"),
            OptionError::WrongType(name) => (*name, match kind_of(name) {
                Kind::Text => "` must be a string",
                _ => "` must be a number",
            }),
            OptionError::OutOfRange(name) => (*name, match kind_of(name) {
                Kind::Count => "` must be a whole number from 0 to 1000000",
                Kind::Millis => "` must be a number of milliseconds from 0 to 2147483647",
                Kind::Fraction | Kind::Text => "` must be a number from 0 to 1",
            }),
        };
        ["chatwire: option `", name, problem].concat()
    }
}

fn kind_of(name: &str) -> Kind {
    OPTIONS
        .iter()
        .find(|(known, _)| *known == name)
        .map_or(Kind::Text, |(_, kind)| *kind)
}

/// Refuses a key of the options object that is no option (serde skips unknown keys).
pub fn check_name(name: &str) -> Result<(), OptionError> {
    match OPTIONS.iter().any(|(known, _)| *known == name) {
        true => Ok(()),
        false => Err(OptionError::Unknown(name.into())),
    }
}

/// Validated manager options with their defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Base URL (`ws://host:port`); `None` derives it from the page's location.
    pub url: Option<String>,
    /// Reconnect schedule.
    pub reconnect: ReconnectPolicy,
    /// Ping period in ms; 0 turns the heartbeat off.
    pub heartbeat_interval_ms: f64,
    /// How long to wait for any frame after a ping.
    pub heartbeat_timeout_ms: f64,
    /// Frames queued while not open; 0 queues none.
    pub outbox_limit: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            url: None,
            reconnect: ReconnectPolicy::default(),
            heartbeat_interval_ms: 30_000.0,
            heartbeat_timeout_ms: 10_000.0,
            outbox_limit: 100,
        }
    }
}

impl TryFrom<OptionsBag> for Options {
    type Error = OptionError;

    /// Checks each given option's range and fills in the defaults; the first option out
    /// of range (in [`OPTIONS`] order) is the error.
    fn try_from(bag: OptionsBag) -> Result<Options, OptionError> {
        let defaults = Options::default();
        let policy = defaults.reconnect;
        Ok(Options {
            url: bag.url,
            reconnect: ReconnectPolicy {
                max_attempts: in_range(bag.max_reconnect_attempts, 1)?
                    .map_or(policy.max_attempts, |n| n as u32),
                base_delay_ms: in_range(bag.base_delay_ms, 2)?.unwrap_or(policy.base_delay_ms),
                max_delay_ms: in_range(bag.max_delay_ms, 3)?.unwrap_or(policy.max_delay_ms),
                jitter: in_range(bag.jitter, 4)?.unwrap_or(policy.jitter),
            },
            heartbeat_interval_ms: in_range(bag.heartbeat_interval_ms, 5)?
                .unwrap_or(defaults.heartbeat_interval_ms),
            heartbeat_timeout_ms: in_range(bag.heartbeat_timeout_ms, 6)?
                .unwrap_or(defaults.heartbeat_timeout_ms),
            outbox_limit: in_range(bag.outbox_limit, 7)?
                .map_or(defaults.outbox_limit, |n| n as usize),
        })
    }
}

/// `value` of option number `index` (in [`OPTIONS`]) if it is in that option's range.
fn in_range(value: Option<f64>, index: usize) -> Result<Option<f64>, OptionError> {
    let (name, kind) = OPTIONS[index];
    let Some(value) = value else {
        return Ok(None);
    };
    let max = match kind {
        Kind::Count => MAX_COUNT,
        Kind::Millis => MAX_MS,
        Kind::Fraction | Kind::Text => 1.0,
    };
    let whole = kind != Kind::Count || value == (value as u64) as f64;
    if (0.0..=max).contains(&value) && whole {
        Ok(Some(value))
    } else {
        Err(OptionError::OutOfRange(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bag with the numeric option called `name` set to `value`.
    fn bag(name: &str, value: f64) -> OptionsBag {
        let index = OPTIONS
            .iter()
            .position(|(known, _)| *known == name)
            .unwrap();
        let mut bag = OptionsBag::default();
        bag.set_number(index, value);
        bag
    }

    fn refused(name: &str, value: f64) -> String {
        Options::try_from(bag(name, value)).unwrap_err().message()
    }

    #[test]
    fn defaults_match_the_documentation() {
        let options = Options::try_from(OptionsBag::default()).unwrap();
        assert_eq!(options, Options::default());
        assert_eq!(options.url, None);
        assert_eq!(options.reconnect.max_attempts, 5);
        assert_eq!(options.reconnect.base_delay_ms, 1000.0);
        assert_eq!(options.reconnect.max_delay_ms, 30_000.0);
        assert_eq!(options.reconnect.jitter, 0.0);
        assert_eq!(options.heartbeat_interval_ms, 30_000.0);
        assert_eq!(options.heartbeat_timeout_ms, 10_000.0);
        assert_eq!(options.outbox_limit, 100);
    }

    #[test]
    fn sets_every_option() {
        let mut given = OptionsBag {
            url: Some("ws://h:1".into()),
            ..OptionsBag::default()
        };
        for (index, value) in [2.0, 20.0, 200.0, 0.25, 0.0, 50.0, 3.0]
            .into_iter()
            .enumerate()
        {
            given.set_number(index + 1, value);
        }
        assert_eq!(
            Options::try_from(given).unwrap(),
            Options {
                url: Some("ws://h:1".into()),
                reconnect: ReconnectPolicy {
                    max_attempts: 2,
                    base_delay_ms: 20.0,
                    max_delay_ms: 200.0,
                    jitter: 0.25,
                },
                heartbeat_interval_ms: 0.0,
                heartbeat_timeout_ms: 50.0,
                outbox_limit: 3,
            }
        );
    }

    #[test]
    fn out_of_range_values_name_the_option() {
        assert_eq!(
            refused("jitter", 2.0),
            "chatwire: option `jitter` must be a number from 0 to 1"
        );
        assert_eq!(
            refused("maxReconnectAttempts", 2.5),
            "chatwire: option `maxReconnectAttempts` must be a whole number from 0 to 1000000"
        );
        assert_eq!(
            refused("baseDelayMs", -1.0),
            "chatwire: option `baseDelayMs` must be a number of milliseconds from 0 to 2147483647"
        );
        for (name, value) in [
            ("jitter", f64::NAN),
            ("outboxLimit", -3.0),
            ("heartbeatTimeoutMs", f64::INFINITY),
            ("maxDelayMs", 3e9),
        ] {
            let error = Options::try_from(bag(name, value)).unwrap_err();
            assert!(
                matches!(error, OptionError::OutOfRange(n) if n == name),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn unknown_names_and_wrong_types_name_the_option() {
        assert!(check_name("outboxLimit").is_ok());
        let unknown = check_name("maxReconectAttempts").unwrap_err().message();
        assert!(
            unknown
                .starts_with("chatwire: option `maxReconectAttempts` is not a known option (url,"),
            "{unknown}"
        );
        assert_eq!(
            OptionError::WrongType("baseDelayMs").message(),
            "chatwire: option `baseDelayMs` must be a number"
        );
        assert_eq!(
            OptionError::WrongType("url").message(),
            "chatwire: option `url` must be a string"
        );
    }
}
