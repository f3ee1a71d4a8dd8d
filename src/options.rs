//! The options bag of `new ChatWebSocketManager(sessionId, token, options)`, validated.
//!
//! Generic over the text type: the browser adapter keeps the `url` option as a JS string
//! (never copied into wasm), native tests use `String`.

use crate::backoff::ReconnectPolicy;

/// Validated manager options with their defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Options<Text> {
    /// Base URL (`ws://host:port`); `None` derives it from the page's location.
    pub url: Option<Text>,
    /// Reconnect schedule.
    pub reconnect: ReconnectPolicy,
    /// Ping period in ms; 0 turns the heartbeat off.
    pub heartbeat_interval_ms: f64,
    /// How long to wait for any frame after a ping.
    pub heartbeat_timeout_ms: f64,
    /// Frames queued while not open; 0 queues none.
    pub outbox_limit: usize,
}

impl<Text> Default for Options<Text> {
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

/// One option value as read from JS.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue<Text> {
    /// `undefined`: keep the default.
    Absent,
    /// A JS number.
    Number(f64),
    /// A JS string.
    Text(Text),
    /// Anything else.
    Other,
}

/// Why an option was refused. The sentence for the `TypeError` is
/// [`OPTION_MESSAGE_PREFIX`], the option's name, then [`OptionError::suffix`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionError {
    /// The name is not one of the documented options (often a typo).
    Unknown,
    /// The value has the wrong JS type.
    WrongType(Kind),
    /// A number outside its allowed range.
    OutOfRange(Kind),
}

/// How every option error message starts; the option's name follows.
pub const OPTION_MESSAGE_PREFIX: &str = "chatwire: option `";

impl OptionError {
    /// What the message says after the option's name.
    pub fn suffix(self) -> &'static str {
        match self {
            OptionError::Unknown => "` is not a known option (url, maxReconnectAttempts, baseDelayMs, maxDelayMs, jitter, heartbeatIntervalMs, heartbeatTimeoutMs, outboxLimit)",
            OptionError::WrongType(Kind::Text) => "` must be a string",
            OptionError::WrongType(_) => "` must be a number",
            OptionError::OutOfRange(Kind::Count) => "` must be a whole number from 0 to 1000000",
            OptionError::OutOfRange(Kind::Millis) => {
                "` must be a number of milliseconds from 0 to 2147483647"
            }
            OptionError::OutOfRange(_) => "` must be a number from 0 to 1",
        }
    }
}

const MAX_MS: f64 = 2_147_483_647.0; // setTimeout's limit

impl<Text> Options<Text> {
    /// Every option name, in the order [`Options::set`] takes them by index.
    pub const NAMES: [&'static str; 8] = [
        "url",
        "maxReconnectAttempts",
        "baseDelayMs",
        "maxDelayMs",
        "jitter",
        "heartbeatIntervalMs",
        "heartbeatTimeoutMs",
        "outboxLimit",
    ];

    /// The index of the option called `name`, for [`Options::set`].
    pub fn position(name: &str) -> Result<usize, OptionError> {
        Self::NAMES
            .iter()
            .position(|known| *known == name)
            .ok_or(OptionError::Unknown)
    }

    /// Sets the option at `index` (in [`Options::NAMES`]) from `value`, checking its type
    /// and range; a refused value changes nothing.
    pub fn set(&mut self, index: usize, value: OptionValue<Text>) -> Result<(), OptionError> {
        let kind = KINDS.get(index).copied().ok_or(OptionError::Unknown)?;
        let number = match value {
            OptionValue::Absent => return Ok(()),
            OptionValue::Text(text) if kind == Kind::Text => {
                self.url = Some(text);
                return Ok(());
            }
            OptionValue::Number(n) if kind != Kind::Text && !n.is_nan() => n,
            _ => return Err(OptionError::WrongType(kind)),
        };
        let max = match kind {
            Kind::Count => 1e6,
            Kind::Millis => MAX_MS,
            _ => 1.0,
        };
        let whole = kind != Kind::Count || number as u32 as f64 == number;
        if !(0.0..=max).contains(&number) || !whole {
            return Err(OptionError::OutOfRange(kind));
        }
        match index {
            1 => self.reconnect.max_attempts = number as u32,
            2 => self.reconnect.base_delay_ms = number,
            3 => self.reconnect.max_delay_ms = number,
            4 => self.reconnect.jitter = number,
            5 => self.heartbeat_interval_ms = number,
            6 => self.heartbeat_timeout_ms = number,
            _ => self.outbox_limit = number as usize,
        }
        Ok(())
    }
}

/// What kind of value an option takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string (`url`).
    Text,
    /// A whole number from 0 to 1,000,000.
    Count,
    /// Milliseconds, up to setTimeout's limit.
    Millis,
    /// A number from 0 to 1.
    Fraction,
}

/// The kind of each option in [`Options::NAMES`].
const KINDS: [Kind; 8] = [
    Kind::Text,
    Kind::Count,
    Kind::Millis,
    Kind::Millis,
    Kind::Fraction,
    Kind::Millis,
    Kind::Millis,
    Kind::Count,
];

#[cfg(test)]
mod tests {
    use super::*;

    type Opts = Options<String>;

    fn set(options: &mut Opts, name: &str, value: OptionValue<String>) -> Result<(), String> {
        let index = Opts::position(name).map_err(|e| message(name, e))?;
        options.set(index, value).map_err(|e| message(name, e))
    }

    fn message(name: &str, error: OptionError) -> String {
        format!("{OPTION_MESSAGE_PREFIX}{name}{}", error.suffix())
    }

    #[test]
    fn defaults_match_the_documentation() {
        let options = Opts::default();
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
        let mut options = Opts::default();
        let number = OptionValue::Number;
        set(&mut options, "url", OptionValue::Text("ws://h:1".into())).unwrap();
        set(&mut options, "maxReconnectAttempts", number(2.0)).unwrap();
        set(&mut options, "baseDelayMs", number(20.0)).unwrap();
        set(&mut options, "maxDelayMs", number(200.0)).unwrap();
        set(&mut options, "jitter", number(0.25)).unwrap();
        set(&mut options, "heartbeatIntervalMs", number(0.0)).unwrap();
        set(&mut options, "heartbeatTimeoutMs", number(50.0)).unwrap();
        set(&mut options, "outboxLimit", number(3.0)).unwrap();
        set(&mut options, "jitter", OptionValue::Absent).unwrap();
        assert_eq!(
            options,
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
    fn refuses_unknown_names_wrong_types_and_ranges() {
        let mut options = Opts::default();
        let unknown = set(
            &mut options,
            "maxReconectAttempts",
            OptionValue::Number(1.0),
        );
        assert!(unknown
            .unwrap_err()
            .starts_with("chatwire: option `maxReconectAttempts` is not a known option (url,"));
        assert_eq!(
            options.set(8, OptionValue::Number(1.0)),
            Err(OptionError::Unknown)
        );

        let wrong = set(&mut options, "baseDelayMs", OptionValue::Text("20".into()));
        assert_eq!(
            wrong.unwrap_err(),
            "chatwire: option `baseDelayMs` must be a number"
        );
        let wrong = set(&mut options, "url", OptionValue::Number(1.0));
        assert_eq!(
            wrong.unwrap_err(),
            "chatwire: option `url` must be a string"
        );
        let wrong = options.set(4, OptionValue::Other);
        assert_eq!(wrong, Err(OptionError::WrongType(Kind::Fraction)));
        let nan = options.set(4, OptionValue::Number(f64::NAN));
        assert_eq!(nan, Err(OptionError::WrongType(Kind::Fraction)));
        let range = set(&mut options, "jitter", OptionValue::Number(2.0));
        assert_eq!(
            range.unwrap_err(),
            "chatwire: option `jitter` must be a number from 0 to 1"
        );

        for (name, value) in [
            ("jitter", 1.5),
            ("baseDelayMs", -1.0),
            ("maxReconnectAttempts", 2.5),
            ("outboxLimit", -3.0),
            ("heartbeatTimeoutMs", f64::INFINITY),
        ] {
            let index = Opts::position(name).unwrap();
            let err = options.set(index, OptionValue::Number(value)).unwrap_err();
            assert!(matches!(err, OptionError::OutOfRange(_)), "{name}={value}");
        }
        assert_eq!(options, Opts::default(), "refused values change nothing");
    }
}
