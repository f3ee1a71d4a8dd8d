//! The options bag of `new ChatWebSocketManager(sessionId, token, options)`, validated.

use alloc::borrow::ToOwned;
use alloc::string::String;

use crate::backoff::ReconnectPolicy;

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

/// One option value as read from JS.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// `undefined`: keep the default.
    Absent,
    /// A JS number.
    Number(f64),
    /// A JS string.
    Text(String),
    /// Anything else, named by its `typeof`.
    Other(&'static str),
}

/// Why an option was refused; [`OptionError::describe`] says it in a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionError {
    /// The name is not one of the documented options (often a typo).
    Unknown(String),
    /// The value has the wrong JS type; `expected` names the right one.
    WrongType {
        name: &'static str,
        expected: &'static str,
    },
    /// A number outside its allowed range; `range` describes it.
    OutOfRange {
        name: &'static str,
        range: &'static str,
    },
}

impl OptionError {
    /// A sentence for the `TypeError` thrown at construction.
    pub fn describe(&self) -> String {
        let mut text = String::from("chatwire: option `");
        match self {
            OptionError::Unknown(name) => {
                text.push_str(name);
                text.push_str("` is not a known option (url, maxReconnectAttempts, baseDelayMs, maxDelayMs, jitter, heartbeatIntervalMs, heartbeatTimeoutMs, outboxLimit)");
            }
            OptionError::WrongType { name, expected } => {
                text.push_str(name);
                text.push_str("` must be a ");
                text.push_str(expected);
            }
            OptionError::OutOfRange { name, range } => {
                text.push_str(name);
                text.push_str("` must be ");
                text.push_str(range);
            }
        }
        text
    }
}

const MAX_MS: f64 = 2_147_483_647.0; // setTimeout's limit

impl Options {
    /// Sets the option `name` from `value`, checking its type and range.
    pub fn set(&mut self, name: &str, value: OptionValue) -> Result<(), OptionError> {
        let Some((name, kind)) = OPTION_KINDS.iter().find(|(known, _)| *known == name) else {
            return Err(OptionError::Unknown(name.to_owned()));
        };
        let number = match (kind, value) {
            (_, OptionValue::Absent) => return Ok(()),
            (Kind::Text, OptionValue::Text(text)) => {
                self.url = Some(text);
                return Ok(());
            }
            (Kind::Text, _) => {
                return Err(OptionError::WrongType {
                    name,
                    expected: "string",
                })
            }
            (_, OptionValue::Number(n)) if !n.is_nan() => n,
            _ => {
                return Err(OptionError::WrongType {
                    name,
                    expected: "number",
                })
            }
        };
        let in_range = match kind {
            Kind::Count => (0.0..=1e6).contains(&number) && number as u32 as f64 == number,
            Kind::Millis => (0.0..=MAX_MS).contains(&number),
            Kind::Fraction => (0.0..=1.0).contains(&number),
            Kind::Text => unreachable!("text options returned above"),
        };
        if !in_range {
            return Err(OptionError::OutOfRange {
                name,
                range: kind.range(),
            });
        }
        match *name {
            "maxReconnectAttempts" => self.reconnect.max_attempts = number as u32,
            "baseDelayMs" => self.reconnect.base_delay_ms = number,
            "maxDelayMs" => self.reconnect.max_delay_ms = number,
            "jitter" => self.reconnect.jitter = number,
            "heartbeatIntervalMs" => self.heartbeat_interval_ms = number,
            "heartbeatTimeoutMs" => self.heartbeat_timeout_ms = number,
            _ => self.outbox_limit = number as usize,
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Count,
    Millis,
    Fraction,
}

impl Kind {
    fn range(self) -> &'static str {
        match self {
            Kind::Count => "a whole number from 0 to 1000000",
            Kind::Millis => "a number of milliseconds from 0 to 2147483647",
            Kind::Fraction => "a number from 0 to 1",
            Kind::Text => "a string",
        }
    }
}

const OPTION_KINDS: [(&str, Kind); 8] = [
    ("url", Kind::Text),
    ("maxReconnectAttempts", Kind::Count),
    ("baseDelayMs", Kind::Millis),
    ("maxDelayMs", Kind::Millis),
    ("jitter", Kind::Fraction),
    ("heartbeatIntervalMs", Kind::Millis),
    ("heartbeatTimeoutMs", Kind::Millis),
    ("outboxLimit", Kind::Count),
];

#[cfg(test)]
mod tests {
    use super::*;

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
        let number = OptionValue::Number;
        options
            .set("url", OptionValue::Text("ws://h:1".into()))
            .unwrap();
        options.set("maxReconnectAttempts", number(2.0)).unwrap();
        options.set("baseDelayMs", number(20.0)).unwrap();
        options.set("maxDelayMs", number(200.0)).unwrap();
        options.set("jitter", number(0.25)).unwrap();
        options.set("heartbeatIntervalMs", number(0.0)).unwrap();
        options.set("heartbeatTimeoutMs", number(50.0)).unwrap();
        options.set("outboxLimit", number(3.0)).unwrap();
        options.set("jitter", OptionValue::Absent).unwrap();
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
        let mut options = Options::default();
        let unknown = options
            .set("maxReconectAttempts", OptionValue::Number(1.0))
            .unwrap_err();
        assert_eq!(unknown, OptionError::Unknown("maxReconectAttempts".into()));
        assert!(unknown
            .describe()
            .contains("`maxReconectAttempts` is not a known option"));

        let wrong = options
            .set("baseDelayMs", OptionValue::Text("20".into()))
            .unwrap_err();
        assert_eq!(
            wrong.describe(),
            "chatwire: option `baseDelayMs` must be a number"
        );
        let wrong = options.set("url", OptionValue::Number(1.0)).unwrap_err();
        assert_eq!(wrong.describe(), "chatwire: option `url` must be a string");
        let wrong = options
            .set("jitter", OptionValue::Other("object"))
            .unwrap_err();
        assert!(matches!(
            wrong,
            OptionError::WrongType { name: "jitter", .. }
        ));
        let nan = options
            .set("jitter", OptionValue::Number(f64::NAN))
            .unwrap_err();
        assert!(matches!(nan, OptionError::WrongType { .. }));

        for (name, value) in [
            ("jitter", 1.5),
            ("baseDelayMs", -1.0),
            ("maxReconnectAttempts", 2.5),
            ("outboxLimit", -3.0),
            ("heartbeatTimeoutMs", f64::INFINITY),
        ] {
            let err = options.set(name, OptionValue::Number(value)).unwrap_err();
            assert!(
                matches!(err, OptionError::OutOfRange { .. }),
                "{name}={value}"
            );
        }
        assert_eq!(options, Options::default(), "refused values change nothing");
    }
}
