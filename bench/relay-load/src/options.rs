//! The command line of `relay-load`.

use std::path::PathBuf;
use std::time::Duration;

/// Most idle sockets this tool will open.
const MAX_IDLE: usize = 50_000;

pub const USAGE: &str = "\
usage: relay-load [--relay PATH] [--out FILE] [--repeat 3] [--phases latency,throughput,idle]
                  [--paced-streams 100,1000] [--paced-tokens 200] [--period-ms 10]
                  [--throughput-streams 1000] [--throughput-tokens 1000] [--idle 10000]
                  [--upstream-batch 1] [--upstream-tls off|on] [--redis on|off] [--floor PATH]
       relay-load --soak SECONDS [--soak-streams 1000] [--soak-tokens 500] [--period-ms 10]

Benchmarks target/server/chatwire-relay against an in-process fake OpenAI upstream (one SSE
event per write, TCP_NODELAY). Paced phases: every stream gets one token per --period-ms,
read directly from the upstream and through the relay. Throughput: unpaced streams, direct
and through the relay. Idle: relay RSS per open socket. Latency and throughput are run
--repeat times, each with the relay's state in memory and then, beside it, with a second relay
keeping its shared state in a throwaway redis-server (--redis off skips it; so does a machine
without redis-server, saying so). --floor PATH also runs latency and throughput, interleaved
the same way, through that binary in the relay's place: target/server/relay-floor, a minimal
forwarder that shows what any relay adds on this machine. --upstream-batch N makes the upstream put N burst events in one write (how the
earlier axum upstream behaved; for comparison only). --upstream-tls on serves the upstream
over HTTPS (HTTP/1.1, the relay's test certificate), which the relay and the direct reader
trust through the test CA: the path a DeepSeek reply takes (not with --floor, which reads
plain HTTP only). --soak runs --soak-streams concurrent
paced streams through a fresh relay for SECONDS, each on a new socket, and prints errors,
relay RSS and open descriptors at the start and end. Results go to --out as JSON
(default bench/results/relay.json, or bench/results/soak.json with --soak).";

/// Which measurements to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phases {
    pub latency: bool,
    pub throughput: bool,
    pub idle: bool,
}

/// Everything the command line sets.
#[derive(Debug, Clone)]
pub struct Options {
    pub relay: PathBuf,
    pub out: PathBuf,
    pub repeat: usize,
    pub phases: Phases,
    pub paced_streams: Vec<usize>,
    pub paced_tokens: u64,
    pub period: Duration,
    pub throughput_streams: usize,
    pub throughput_tokens: u64,
    pub idle: usize,
    pub upstream_batch: usize,
    /// Serve the fake upstream over TLS.
    pub upstream_tls: bool,
    /// Also measure a relay whose shared state is in Redis.
    pub redis: bool,
    /// Also measure this binary in the relay's place (`relay-floor`, the machine's floor).
    pub floor: Option<PathBuf>,
    /// Soak for this long instead of the benchmark phases.
    pub soak: Option<Duration>,
    pub soak_streams: usize,
    pub soak_tokens: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            relay: PathBuf::from("target/server/chatwire-relay"),
            out: PathBuf::from("bench/results/relay.json"),
            repeat: 3,
            phases: Phases {
                latency: true,
                throughput: true,
                idle: true,
            },
            paced_streams: vec![100, 1000],
            paced_tokens: 200,
            period: Duration::from_millis(10),
            throughput_streams: 1000,
            throughput_tokens: 1000,
            idle: 10_000,
            upstream_batch: 1,
            upstream_tls: false,
            redis: true,
            floor: None,
            soak: None,
            soak_streams: 1000,
            soak_tokens: 500,
        }
    }
}

fn list<T: std::str::FromStr>(flag: &str, value: &str) -> Result<Vec<T>, String> {
    value
        .split(',')
        .map(|v| v.trim().parse::<T>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("{flag}: expected a comma-separated list, got {value}"))
}

fn on_off(flag: &str, value: &str) -> Result<bool, String> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{flag}: expected on or off, got {value}")),
    }
}

/// Parses the arguments (without the program name); `Err` carries the message to print.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
    let mut out_given = false;
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_owned());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {value}"))
        };
        match flag.as_str() {
            "--relay" => options.relay = PathBuf::from(&value),
            "--out" => {
                options.out = PathBuf::from(&value);
                out_given = true;
            }
            "--repeat" => options.repeat = number()?.max(1) as usize,
            "--phases" => {
                let names: Vec<String> = list(&flag, &value)?;
                let mut phases = Phases {
                    latency: false,
                    throughput: false,
                    idle: false,
                };
                for name in names {
                    match name.as_str() {
                        "latency" => phases.latency = true,
                        "throughput" => phases.throughput = true,
                        "idle" => phases.idle = true,
                        other => return Err(format!("--phases: unknown phase {other}")),
                    }
                }
                options.phases = phases;
            }
            "--paced-streams" => options.paced_streams = list(&flag, &value)?,
            "--paced-tokens" => options.paced_tokens = number()?.max(1),
            "--period-ms" => options.period = Duration::from_millis(number()?.max(1)),
            "--throughput-streams" => options.throughput_streams = number()?.max(1) as usize,
            "--throughput-tokens" => options.throughput_tokens = number()?.max(1),
            "--idle" => options.idle = (number()? as usize).min(MAX_IDLE),
            "--upstream-batch" => options.upstream_batch = number()?.max(1) as usize,
            "--redis" => options.redis = on_off(&flag, &value)?,
            "--upstream-tls" => options.upstream_tls = on_off(&flag, &value)?,
            "--floor" => options.floor = Some(PathBuf::from(&value)),
            "--soak" => options.soak = Some(Duration::from_secs(number()?.max(1))),
            "--soak-streams" => options.soak_streams = number()?.max(1) as usize,
            "--soak-tokens" => options.soak_tokens = number()?.max(1),
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    if options.upstream_tls && options.floor.is_some() {
        return Err("--floor reads plain HTTP only: drop --upstream-tls on".to_owned());
    }
    if options.soak.is_some() && !out_given {
        options.out = PathBuf::from("bench/results/soak.json");
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn defaults_are_the_issue_12_loads() {
        let o = parse(args("")).unwrap();
        assert_eq!(o.paced_streams, [100, 1000]);
        assert_eq!(o.period, Duration::from_millis(10));
        assert_eq!((o.throughput_streams, o.throughput_tokens), (1000, 1000));
        assert_eq!(o.idle, 10_000);
        assert_eq!(o.upstream_batch, 1);
        assert!(o.redis && !o.upstream_tls);
        assert!(o.floor.is_none());
        assert!(o.soak.is_none());
    }

    #[test]
    fn flags_set_sizes_and_phases() {
        let o = parse(args(
            "--paced-streams 1,10 --phases throughput --repeat 0 --soak 60 --period-ms 20",
        ))
        .unwrap();
        assert_eq!(o.paced_streams, [1, 10]);
        assert_eq!(
            o.phases,
            Phases {
                latency: false,
                throughput: true,
                idle: false
            }
        );
        assert_eq!(o.repeat, 1);
        assert_eq!(o.soak, Some(Duration::from_secs(60)));
        assert_eq!(o.out, PathBuf::from("bench/results/soak.json"));
        assert_eq!(o.period, Duration::from_millis(20));
        let o = parse(args("--floor target/server/relay-floor")).unwrap();
        assert_eq!(o.floor, Some(PathBuf::from("target/server/relay-floor")));
    }

    #[test]
    fn bad_flags_are_refused_with_a_message() {
        assert!(parse(args("--repeat x"))
            .unwrap_err()
            .contains("not a number"));
        assert!(parse(args("--phases latency,nope")).is_err());
        assert!(parse(args("--redis maybe")).is_err());
        assert!(!parse(args("--redis off")).unwrap().redis);
        assert!(parse(args("--upstream-tls on")).unwrap().upstream_tls);
        assert!(parse(args("--upstream-tls yes")).is_err());
        assert!(
            parse(args("--upstream-tls on --floor target/server/relay-floor"))
                .unwrap_err()
                .contains("plain HTTP")
        );
        assert!(parse(args("--frobnicate 1"))
            .unwrap_err()
            .contains("unknown flag"));
        assert!(parse(args("--idle")).unwrap_err().contains("needs a value"));
        assert!(parse(args("--help")).unwrap_err().starts_with("usage"));
    }
}
