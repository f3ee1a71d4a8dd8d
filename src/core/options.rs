//! The options bag of `new ChatWebSocketManager(sessionId, token, options)`: what was given
//! ([`OptionsBag`]) and the rules each option must follow ([`Options`]).
//!
//! The browser adapter reads the JS object (`browser/options.rs`); everything here is plain
//! Rust, tested natively.

use alloc::string::String;

use super::backoff::ReconnectPolicy;
use super::text::join;

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

/// What kind of number an option takes, which decides its range and error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole number from 0 to 1,000,000.
    Count,
    /// Milliseconds, from 0 to setTimeout's limit.
    Millis,
    /// A number from 0 to 1.
    Fraction,
}

/// The name of `url`, the one option that is a string.
pub const URL: &str = "url";

/// A numeric option: its JS name, its kind and its field in [`OptionsBag`], together in one
/// entry so that a name cannot get out of step with its field.
#[derive(Clone, Copy)]
pub struct NumberOption {
    /// The key in the JS options object.
    pub name: &'static str,
    /// The rule its value follows.
    pub kind: Kind,
    /// Its field in the bag.
    pub field: fn(&mut OptionsBag) -> &mut Option<f64>,
}

/// Every numeric option, in the order they are checked (the first out of range is the error).
pub const NUMBER_OPTIONS: [NumberOption; 7] = [
    NumberOption {
        name: "maxReconnectAttempts",
        kind: Kind::Count,
        field: |bag| &mut bag.max_reconnect_attempts,
    },
    NumberOption {
        name: "baseDelayMs",
        kind: Kind::Millis,
        field: |bag| &mut bag.base_delay_ms,
    },
    NumberOption {
        name: "maxDelayMs",
        kind: Kind::Millis,
        field: |bag| &mut bag.max_delay_ms,
    },
    NumberOption {
        name: "jitter",
        kind: Kind::Fraction,
        field: |bag| &mut bag.jitter,
    },
    NumberOption {
        name: "heartbeatIntervalMs",
        kind: Kind::Millis,
        field: |bag| &mut bag.heartbeat_interval_ms,
    },
    NumberOption {
        name: "heartbeatTimeoutMs",
        kind: Kind::Millis,
        field: |bag| &mut bag.heartbeat_timeout_ms,
    },
    NumberOption {
        name: "outboxLimit",
        kind: Kind::Count,
        field: |bag| &mut bag.outbox_limit,
    },
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
            OptionError::WrongType(name) => (*name, match *name {
                URL => "` must be a string",
                _ => "` must be a number",
            }),
            OptionError::OutOfRange(name) => (*name, match number_option(name).map(|o| o.kind) {
                Some(Kind::Count) => "` must be a whole number from 0 to 1000000",
                Some(Kind::Millis) => "` must be a number of milliseconds from 0 to 2147483647",
                Some(Kind::Fraction) | None => "` must be a number from 0 to 1",
            }),
        };
        join(&["chatwire: option `", name, problem])
    }
}

/// The numeric option called `name`.
pub fn number_option(name: &str) -> Option<&'static NumberOption> {
    NUMBER_OPTIONS.iter().find(|option| option.name == name)
}

/// Refuses a key of the options object that is no option (serde skips unknown keys).
pub fn check_name(name: &str) -> Result<(), OptionError> {
    match name == URL || number_option(name).is_some() {
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
    /// of range (in [`NUMBER_OPTIONS`] order) is the error.
    fn try_from(mut bag: OptionsBag) -> Result<Options, OptionError> {
        for option in &NUMBER_OPTIONS {
            if let Some(value) = *(option.field)(&mut bag) {
                if !in_range(option.kind, value) {
                    return Err(OptionError::OutOfRange(option.name));
                }
            }
        }
        let defaults = Options::default();
        let policy = defaults.reconnect;
        Ok(Options {
            url: bag.url,
            reconnect: ReconnectPolicy {
                max_attempts: bag
                    .max_reconnect_attempts
                    .map_or(policy.max_attempts, |n| n as u32),
                base_delay_ms: bag.base_delay_ms.unwrap_or(policy.base_delay_ms),
                max_delay_ms: bag.max_delay_ms.unwrap_or(policy.max_delay_ms),
                jitter: bag.jitter.unwrap_or(policy.jitter),
            },
            heartbeat_interval_ms: bag
                .heartbeat_interval_ms
                .unwrap_or(defaults.heartbeat_interval_ms),
            heartbeat_timeout_ms: bag
                .heartbeat_timeout_ms
                .unwrap_or(defaults.heartbeat_timeout_ms),
            outbox_limit: bag
                .outbox_limit
                .map_or(defaults.outbox_limit, |n| n as usize),
        })
    }
}

/// Whether `value` is allowed for an option of `kind`.
fn in_range(kind: Kind, value: f64) -> bool {
    let max = match kind {
        Kind::Count => MAX_COUNT,
        Kind::Millis => MAX_MS,
        Kind::Fraction => 1.0,
    };
    let whole = kind != Kind::Count || value == (value as u64) as f64;
    (0.0..=max).contains(&value) && whole
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bag with the numeric option called `name` set to `value`.
    fn bag(name: &str, value: f64) -> OptionsBag {
        let mut bag = OptionsBag::default();
        *(number_option(name).unwrap().field)(&mut bag) = Some(value);
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
        for (option, value) in NUMBER_OPTIONS
            .iter()
            .zip([2.0, 20.0, 200.0, 0.25, 0.0, 50.0, 3.0])
        {
            *(option.field)(&mut given) = Some(value);
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
