//! `relay-load`: benchmarks chatwire-relay against a fast in-process fake upstream.
//!
//! 1. Added latency per token: the upstream stamps each token with its send time; the same
//!    paced streams are read directly from the upstream (SSE) and through the relay
//!    (WebSocket), at each concurrency; added = relayed − direct, per percentile.
//! 2. Throughput: tokens relayed per second with many concurrent streams whose upstream sends
//!    as fast as the relay reads.
//! 3. Memory: the relay's RSS per idle WebSocket, with a fresh relay and many sockets open.
//!
//! Everything talks to 127.0.0.1 only; every phase is bounded in count and time.
//! Usage: `relay-load --relay target/server/chatwire-relay --out bench/results/relay.json`
//! (see `--help` for the sizes).

mod clients;
mod clock;
mod relay;
mod stats;
mod upstream;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::clients::StreamResult;
use crate::relay::Relay;
use crate::upstream::Script;

/// No stream may take longer than this.
const STREAM_TIMEOUT: Duration = Duration::from_secs(90);
/// Sockets being opened at once in the idle phase.
const OPEN_PARALLEL: usize = 64;
/// Most idle sockets this tool will open.
const MAX_IDLE: usize = 50_000;

const USAGE: &str = "usage: relay-load --relay PATH --out FILE [--latency-streams 1,100,1000] \
[--paced-tokens 100] [--period-ms 20] [--throughput-streams 1000] [--throughput-tokens 600] \
[--idle 10000]";

struct Options {
    relay: PathBuf,
    out: PathBuf,
    latency_streams: Vec<usize>,
    paced_tokens: u64,
    period: Duration,
    throughput_streams: usize,
    throughput_tokens: u64,
    idle: usize,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        relay: PathBuf::from("target/server/chatwire-relay"),
        out: PathBuf::from("bench/results/relay.json"),
        latency_streams: vec![1, 100, 1000],
        paced_tokens: 100,
        period: Duration::from_millis(20),
        throughput_streams: 1000,
        throughput_tokens: 600,
        idle: 10_000,
    };
    let mut args = std::env::args().skip(1);
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
            "--out" => options.out = PathBuf::from(&value),
            "--latency-streams" => {
                options.latency_streams = value
                    .split(',')
                    .map(|v| v.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("{flag}: expected numbers like 1,100,1000"))?
            }
            "--paced-tokens" => options.paced_tokens = number()?,
            "--period-ms" => options.period = Duration::from_millis(number()?.max(1)),
            "--throughput-streams" => options.throughput_streams = number()? as usize,
            "--throughput-tokens" => options.throughput_tokens = number()?,
            "--idle" => options.idle = (number()? as usize).min(MAX_IDLE),
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    Ok(options)
}

/// Runs `count` streams at once; returns the results and the errors.
async fn run_streams<F, Fut>(count: usize, make: F) -> (Vec<StreamResult>, Vec<String>)
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<StreamResult, String>> + Send + 'static,
{
    let tasks: Vec<_> = (0..count)
        .map(|i| tokio::spawn(tokio::time::timeout(STREAM_TIMEOUT, make(i))))
        .collect();
    let mut results = Vec::with_capacity(count);
    let mut errors = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(Ok(result))) => results.push(result),
            Ok(Ok(Err(e))) => errors.push(e),
            Ok(Err(_)) => errors.push("stream timed out".to_owned()),
            Err(e) => errors.push(format!("task failed: {e}")),
        }
    }
    (results, errors)
}

fn report_errors(phase: &str, errors: &[String]) {
    if let Some(first) = errors.first() {
        eprintln!("  {phase}: {} streams failed; first: {first}", errors.len());
    }
}

fn latencies(results: &[StreamResult]) -> Vec<u64> {
    results
        .iter()
        .flat_map(|r| r.latencies_ns.iter().copied())
        .collect()
}

fn us(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .map_err(|e| e.to_string())
}

async fn latency_phase(
    options: &Options,
    relay: &Relay,
    http: &reqwest::Client,
    upstream: &str,
) -> Vec<Value> {
    let mut rows = Vec::new();
    for &streams in &options.latency_streams {
        let script = |i: usize| Script::Paced {
            tokens: options.paced_tokens,
            period: options.period,
            // Streams start spread over one period, as independent users would.
            offset: options.period * u32::try_from(i).unwrap_or(0)
                / u32::try_from(streams.max(1)).unwrap_or(1),
        };
        let (direct, direct_errors) = run_streams(streams, |i| {
            let http = http.clone();
            let upstream = upstream.to_owned();
            let s = script(i);
            async move { clients::direct(&http, &upstream, s).await }
        })
        .await;
        report_errors("direct", &direct_errors);
        let (relayed, relayed_errors) = run_streams(streams, |i| {
            let ws = relay.ws.clone();
            let s = script(i);
            async move { clients::relayed(&ws, &format!("lat-{streams}-{i}"), s).await }
        })
        .await;
        report_errors("relayed", &relayed_errors);
        let direct_summary = stats::summary(&mut latencies(&direct));
        let relayed_summary = stats::summary(&mut latencies(&relayed));
        let added_p50 = us(&relayed_summary, "p50_us") - us(&direct_summary, "p50_us");
        let added_p99 = us(&relayed_summary, "p99_us") - us(&direct_summary, "p99_us");
        eprintln!(
            "  {streams:>5} streams: direct p50 {:.0} µs p99 {:.0} µs | relayed p50 {:.0} µs p99 {:.0} µs | added p50 {added_p50:.0} µs p99 {added_p99:.0} µs",
            us(&direct_summary, "p50_us"),
            us(&direct_summary, "p99_us"),
            us(&relayed_summary, "p50_us"),
            us(&relayed_summary, "p99_us"),
        );
        rows.push(json!({
            "streams": streams,
            "tokens_per_stream": options.paced_tokens,
            "period_ms": options.period.as_secs_f64() * 1000.0,
            "direct": direct_summary,
            "relayed": relayed_summary,
            "added_p50_us": added_p50,
            "added_p99_us": added_p99,
            "errors": direct_errors.len() + relayed_errors.len(),
        }));
    }
    rows
}

async fn throughput_phase(options: &Options, relay: &Relay) -> Value {
    let streams = options.throughput_streams;
    let script = Script::Burst {
        tokens: options.throughput_tokens,
    };
    let relay_cpu_before = relay.cpu_seconds().unwrap_or(0.0);
    let own_cpu_before = relay::cpu_seconds("self").unwrap_or(0.0);
    let started = std::time::Instant::now();
    let (results, errors) = run_streams(streams, |i| {
        let ws = relay.ws.clone();
        async move { clients::relayed(&ws, &format!("tput-{i}"), script).await }
    })
    .await;
    let wall = started.elapsed().as_secs_f64();
    report_errors("throughput", &errors);
    let relay_cpu = relay.cpu_seconds().unwrap_or(0.0) - relay_cpu_before;
    let own_cpu = relay::cpu_seconds("self").unwrap_or(0.0) - own_cpu_before;
    let tokens: u64 = results.iter().map(|r| r.tokens).sum();
    let first = results.iter().map(|r| r.first_ns).min().unwrap_or(0);
    let last = results.iter().map(|r| r.last_ns).max().unwrap_or(0);
    let window = (last.saturating_sub(first)) as f64 / 1e9;
    let rate = if window > 0.0 {
        tokens as f64 / window
    } else {
        0.0
    };
    eprintln!(
        "  {streams} streams: {tokens} tokens in {window:.2} s = {rate:.0} tokens/s (relay CPU {relay_cpu:.2} s, load generator + upstream CPU {own_cpu:.2} s)"
    );
    json!({
        "streams": streams,
        "tokens_per_stream": options.throughput_tokens,
        "tokens": tokens,
        "window_s": window,
        "wall_s": wall,
        "tokens_per_s": rate,
        "relay_cpu_s": relay_cpu,
        "loadgen_cpu_s": own_cpu,
        "relay_tokens_per_cpu_s": if relay_cpu > 0.0 { tokens as f64 / relay_cpu } else { 0.0 },
        "errors": errors.len(),
    })
}

async fn idle_phase(
    options: &Options,
    upstream: SocketAddr,
    http: &reqwest::Client,
) -> Result<Value, String> {
    let mut relay = Relay::start(&options.relay, upstream).await?;
    // Warm up: one socket opened and closed, so lazily built state is not counted.
    let mut warm = clients::connect_and_ping(&relay.ws, "warm-up").await?;
    let _ = futures_util::SinkExt::close(&mut warm).await;
    drop(warm);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = relay.rss_bytes().ok_or("cannot read the relay's RSS")?;
    let gate = std::sync::Arc::new(Semaphore::new(OPEN_PARALLEL));
    let tasks: Vec<_> = (0..options.idle)
        .map(|i| {
            let ws = relay.ws.clone();
            let gate = gate.clone();
            tokio::spawn(async move {
                let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
                tokio::time::timeout(
                    STREAM_TIMEOUT,
                    clients::connect_and_ping(&ws, &format!("idle-{i}")),
                )
                .await
                .map_err(|_| "connect timed out".to_owned())?
            })
        })
        .collect();
    let mut sockets = Vec::with_capacity(options.idle);
    let mut errors = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(socket)) => sockets.push(socket),
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(e.to_string()),
        }
    }
    report_errors("idle", &errors);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let open = relay::health_field(http, &relay.http, "connections").await;
    let Some(after) = relay.rss_bytes() else {
        let status = relay
            .exit_status()
            .unwrap_or_else(|| "still running".to_owned());
        return Err(format!("cannot read the relay's RSS (relay: {status})"));
    };
    let count = sockets.len();
    let per = after.saturating_sub(before) as f64 / count.max(1) as f64;
    eprintln!(
        "  {count} idle sockets (relay reports {open:?} open): RSS {before} -> {after} bytes = {per:.0} bytes per socket"
    );
    drop(sockets);
    relay.stop().await;
    Ok(json!({
        "connections": count,
        "relay_reported_open": open,
        "rss_before_bytes": before,
        "rss_after_bytes": after,
        "per_connection_bytes": per,
        "errors": errors.len(),
    }))
}

async fn run(options: Options) -> Result<Value, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("fake upstream: {e}"))?;
    let upstream_addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(upstream::serve(listener));
    let upstream = format!("http://{upstream_addr}");
    // Its pool holds a connection per direct stream; it is dropped before the idle phase so
    // those descriptors are free for the idle sockets.
    let http = http_client()?;

    let relay = Relay::start(&options.relay, upstream_addr).await?;
    eprintln!(
        "relay-load: relay at {}, fake upstream at {upstream}",
        relay.http
    );
    // Warm-up: connections pools on both paths, code paths, allocator.
    let warm = Script::Paced {
        tokens: 5,
        period: Duration::from_millis(1),
        offset: Duration::ZERO,
    };
    let _ = run_streams(20, |i| {
        let ws = relay.ws.clone();
        async move { clients::relayed(&ws, &format!("warm-{i}"), warm).await }
    })
    .await;
    let _ = run_streams(20, |_| {
        let http = http.clone();
        let upstream = upstream.clone();
        async move { clients::direct(&http, &upstream, warm).await }
    })
    .await;

    eprintln!(
        "relay-load: added latency per token ({} tokens per stream, one every {:?})",
        options.paced_tokens, options.period
    );
    let latency = latency_phase(&options, &relay, &http, &upstream).await;
    eprintln!("relay-load: throughput");
    let throughput = throughput_phase(&options, &relay).await;
    relay.stop().await;
    drop(http);
    eprintln!("relay-load: idle sockets (fresh relay)");
    let idle = idle_phase(&options, upstream_addr, &http_client()?).await?;
    Ok(json!({ "latency": latency, "throughput": throughput, "idle": idle }))
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("relay-load: {e}");
            return ExitCode::FAILURE;
        }
    };
    let out = options.out.clone();
    match runtime.block_on(run(options)) {
        Ok(result) => {
            let text = format!("{result:#}\n");
            if let Err(e) = std::fs::write(&out, text) {
                eprintln!("relay-load: cannot write {}: {e}", out.display());
                return ExitCode::FAILURE;
            }
            eprintln!("relay-load: wrote {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("relay-load: {e}");
            ExitCode::FAILURE
        }
    }
}
