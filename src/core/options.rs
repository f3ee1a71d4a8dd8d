//! The options of `new ChatWebSocketManager(sessionId, token, options)`: their names, the
//! rules each must follow, and the validated [`Options`] with their defaults.
//!
//! The browser adapter reads the JS object one key at a time (`browser/options.rs`) and hands
//! each value here; everything here is plain Rust, tested natively.

use alloc::string::String;

use super::backoff::ReconnectPolicy;
use super::text::join;

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

/// A numeric option: its JS name, its kind and where its value goes in [`Options`], together
/// in one entry so that a name cannot get out of step with its field.
#[derive(Clone, Copy)]
pub struct NumberOption {
    /// The key in the JS options object.
    pub name: &'static str,
    /// The rule its value follows.
    pub kind: Kind,
    /// Stores a value that follows the rule.
    apply: fn(&mut Options, f64),
}

/// Every numeric option.
pub const NUMBER_OPTIONS: [NumberOption; 7] = [
    NumberOption {
        name: "maxReconnectAttempts",
        kind: Kind::Count,
        apply: |options, n| options.reconnect.max_attempts = n as u32,
    },
    NumberOption {
        name: "baseDelayMs",
        kind: Kind::Millis,
        apply: |options, ms| options.reconnect.base_delay_ms = ms,
    },
    NumberOption {
        name: "maxDelayMs",
        kind: Kind::Millis,
        apply: |options, ms| options.reconnect.max_delay_ms = ms,
    },
    NumberOption {
        name: "jitter",
        kind: Kind::Fraction,
        apply: |options, fraction| options.reconnect.jitter = fraction,
    },
    NumberOption {
        name: "heartbeatIntervalMs",
        kind: Kind::Millis,
        apply: |options, ms| options.heartbeat_interval_ms = ms,
    },
    NumberOption {
        name: "heartbeatTimeoutMs",
        kind: Kind::Millis,
        apply: |options, ms| options.heartbeat_timeout_ms = ms,
    },
    NumberOption {
        name: "outboxLimit",
        kind: Kind::Count,
        apply: |options, n| options.outbox_limit = n as usize,
    },
];

const MAX_COUNT: f64 = 1_000_000.0;
const MAX_MS: f64 = 2_147_483_647.0; // setTimeout's limit

/// What a key of the options object names.
#[derive(Clone, Copy)]
pub enum Named {
    /// `url`.
    Url,
    /// One of [`NUMBER_OPTIONS`].
    Number(&'static NumberOption),
}

impl Named {
    /// The option's JS name.
    pub fn name(self) -> &'static str {
        match self {
            Named::Url => URL,
            Named::Number(option) => option.name,
        }
    }
}

/// The option a key of the options object names, or [`OptionError::Unknown`] for a key that
/// is no option (often a typo).
pub fn option_named(name: &str) -> Result<Named, OptionError<'_>> {
    if name == URL {
        return Ok(Named::Url);
    }
    match NUMBER_OPTIONS.iter().find(|option| option.name == name) {
        Some(option) => Ok(Named::Number(option)),
        None => Err(OptionError::Unknown(name)),
    }
}

/// Why an option was refused: the `TypeError` message names the option.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionError<'a> {
    /// The name is not one of the documented options (often a typo).
    Unknown(&'a str),
    /// The value has the wrong JS type.
    WrongType(&'static str),
    /// A number outside its allowed range (or not whole where it must be).
    OutOfRange(&'static str, Kind),
}

impl OptionError<'_> {
    /// The sentence for the `TypeError`. (Joined with `concat`, not `format!`: the error
    /// path alone would otherwise link core's formatting machinery into the wasm.)
    pub fn message(&self) -> String {
        let (name, problem) = match self {
            OptionError::Unknown(name) => (*name, "` is not a known option (url, maxReconnectAttempts, baseDelayMs, maxDelayMs, jitter, heartbeatIntervalMs, heartbeatTimeoutMs, outboxLimit)"),
            OptionError::WrongType(name) => (*name, match *name {
                URL => "` must be a string",
                _ => "` must be a number",
            }),
            OptionError::OutOfRange(name, kind) => (*name, match kind {
                Kind::Count => "` must be a whole number from 0 to 1000000",
                Kind::Millis => "` must be a number of milliseconds from 0 to 2147483647",
                Kind::Fraction => "` must be a number from 0 to 1",
            }),
        };
        join(&["chatwire: option `", name, problem])
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

impl Options {
    /// Sets the numeric `option` to `value`, or refuses a value outside its range.
    pub fn set_number(
        &mut self,
        option: &NumberOption,
        value: f64,
    ) -> Result<(), OptionError<'static>> {
        if !in_range(option.kind, value) {
            return Err(OptionError::OutOfRange(option.name, option.kind));
        }
        (option.apply)(self, value);
        Ok(())
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

    /// The options with the numeric option called `name` set to `value`.
    fn set(name: &str, value: f64) -> Result<Options, OptionError<'static>> {
        let Ok(Named::Number(option)) = option_named(name) else {
            panic!("{name} is not a numeric option");
        };
        let mut options = Options::default();
        options.set_number(option, value).map(|()| options)
    }

    fn refused(name: &str, value: f64) -> String {
        set(name, value).unwrap_err().message()
    }

    #[test]
    fn defaults_match_the_documentation() {
        let options = Options::default();
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
        let mut options = Options::default();
        for (option, value) in NUMBER_OPTIONS
            .iter()
            .zip([2.0, 20.0, 200.0, 0.25, 0.0, 50.0, 3.0])
        {
            options.set_number(option, value).unwrap();
        }
        assert_eq!(
            options,
            Options {
                url: None,
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
            let error = set(name, value).unwrap_err();
            assert!(
                matches!(error, OptionError::OutOfRange(n, _) if n == name),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn a_refused_value_changes_nothing() {
        let mut options = Options::default();
        let jitter = &NUMBER_OPTIONS[3];
        assert!(options.set_number(jitter, 1.5).is_err());
        assert_eq!(options, Options::default());
    }

    #[test]
    fn unknown_names_and_wrong_types_name_the_option() {
        assert!(matches!(option_named("url"), Ok(Named::Url)));
        assert_eq!(option_named("outboxLimit").unwrap().name(), "outboxLimit");
        let unknown = option_named("maxReconectAttempts").err().unwrap().message();
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
