//! The benchmark's measurements. Paced latency and unpaced throughput are each measured
//! twice with the same streams: read directly from the upstream, and through the relay, so
//! what the relay adds is told apart from what the harness itself costs on the shared cores.
//! Idle memory is the relay's RSS per open socket.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Semaphore;

use crate::clients::{self, Socket, StreamResult};
use crate::options::Options;
use crate::procfs;
use crate::redis_server::RedisServer;
use crate::relay::{self, Relay};
use crate::stats;
use crate::upstream::Script;

/// No stream may take longer than this.
const STREAM_TIMEOUT: Duration = Duration::from_secs(90);
/// Sockets being opened at once.
const OPEN_PARALLEL: usize = 64;
/// Errors quoted in the results (the count is always complete).
const QUOTED_ERRORS: usize = 3;

/// CPU time of the relay and of this process (fake upstream + clients) at one moment.
struct CpuMark {
    relay: f64,
    own: f64,
}

impl CpuMark {
    fn now(relay: Option<&Relay>) -> CpuMark {
        CpuMark {
            relay: relay.and_then(Relay::cpu_seconds).unwrap_or(0.0),
            own: procfs::cpu_seconds("self").unwrap_or(0.0),
        }
    }
}

/// What a set of concurrent streams did, read one way (direct or relayed).
struct Outcome {
    results: Vec<StreamResult>,
    errors: Vec<String>,
    wall: Duration,
    relay_cpu_s: f64,
    own_cpu_s: f64,
    /// Commands the relay's Redis processed meanwhile (relayed through a Redis-backed relay).
    redis_commands: Option<u64>,
    /// Warning and error lines the relay logged meanwhile.
    relay_warnings: u64,
    loadavg_start: String,
    loadavg_end: String,
}

impl Outcome {
    fn tokens(&self) -> u64 {
        self.results.iter().map(|r| r.tokens).sum()
    }

    fn latencies(&self) -> Vec<u64> {
        self.results
            .iter()
            .flat_map(|r| r.latencies_ns.iter().copied())
            .collect()
    }

    fn to_json(&self, relayed: bool) -> Value {
        let tokens = self.tokens();
        let wall = self.wall.as_secs_f64();
        let first = self.results.iter().map(|r| r.first_ns).min().unwrap_or(0);
        let last = self.results.iter().map(|r| r.last_ns).max().unwrap_or(0);
        let window = last.saturating_sub(first) as f64 / 1e9;
        let per = |x: f64, n: f64| if n > 0.0 { x / n } else { 0.0 };
        let mtok = tokens as f64 / 1e6;
        let redis_per_token = self.redis_commands.map(|n| per(n as f64, tokens as f64));
        json!({
            "streams": self.results.len() + self.errors.len(),
            "tokens": tokens,
            "errors": self.errors.len(),
            "first_errors": self.errors.iter().take(QUOTED_ERRORS).collect::<Vec<_>>(),
            "wall_s": wall,
            "tokens_per_s": per(tokens as f64, wall),
            "window_s": window,
            "window_tokens_per_s": per(tokens as f64, window),
            "latency": stats::summary(&mut self.latencies()),
            "relay_cpu_s": if relayed { self.relay_cpu_s } else { 0.0 },
            "relay_cpu_s_per_mtok": if relayed { per(self.relay_cpu_s, mtok) } else { 0.0 },
            "harness_cpu_s": self.own_cpu_s,
            "harness_cpu_s_per_mtok": per(self.own_cpu_s, mtok),
            "redis_commands": self.redis_commands,
            "relay_warnings": self.relay_warnings,
            "redis_commands_per_token": redis_per_token,
            "loadavg_start": self.loadavg_start,
            "loadavg_end": self.loadavg_end,
        })
    }
}

/// Awaits every task; results and errors apart.
async fn collect<T>(
    tasks: Vec<tokio::task::JoinHandle<Result<Result<T, String>, tokio::time::error::Elapsed>>>,
) -> (Vec<T>, Vec<String>) {
    let mut ok = Vec::with_capacity(tasks.len());
    let mut errors = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(Ok(value))) => ok.push(value),
            Ok(Ok(Err(e))) => errors.push(e),
            Ok(Err(_)) => errors.push("timed out".to_owned()),
            Err(e) => errors.push(format!("task failed: {e}")),
        }
    }
    (ok, errors)
}

/// Opens `count` sockets (`OPEN_PARALLEL` at a time), session `{prefix}-{i}` each.
pub async fn open_sockets(ws: &str, prefix: &str, count: usize) -> (Vec<Socket>, Vec<String>) {
    open_with(count, |i| {
        let ws = ws.to_owned();
        let session = format!("{prefix}-{i}");
        async move { clients::connect(&ws, &session).await }
    })
    .await
}

/// Runs `open(i)` for `0..count`, `OPEN_PARALLEL` at a time.
pub async fn open_with<F, Fut>(count: usize, open: F) -> (Vec<Socket>, Vec<String>)
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<Socket, String>> + Send + 'static,
{
    let gate = Arc::new(Semaphore::new(OPEN_PARALLEL));
    let tasks = (0..count)
        .map(|i| {
            let gate = gate.clone();
            let open = open(i);
            tokio::spawn(async move {
                let _permit = gate.acquire_owned().await;
                tokio::time::timeout(STREAM_TIMEOUT, open).await
            })
        })
        .collect();
    collect(tasks).await
}

/// Redis's command count now, when the relay keeps its state in Redis.
async fn commands_processed(redis: Option<&RedisServer>) -> Option<u64> {
    match redis {
        Some(redis) => redis.commands_processed().await,
        None => None,
    }
}

/// One stream per open socket (conversation `{prefix}-{i}`), all at once.
async fn relayed(
    relay: &Relay,
    redis: Option<&RedisServer>,
    prefix: &str,
    count: usize,
    script: impl Fn(usize) -> Script,
) -> Outcome {
    let (sockets, mut errors) = open_sockets(&relay.ws, prefix, count).await;
    let loadavg_start = procfs::loadavg();
    let cpu = CpuMark::now(Some(relay));
    let warnings = relay.warnings();
    let redis_start = commands_processed(redis).await;
    let started = Instant::now();
    let tasks = sockets
        .into_iter()
        .enumerate()
        .map(|(i, socket)| {
            let conversation = format!("{prefix}-{i}");
            let script = script(i);
            tokio::spawn(tokio::time::timeout(STREAM_TIMEOUT, async move {
                clients::stream(socket, &conversation, script).await
            }))
        })
        .collect();
    let (results, stream_errors) = collect(tasks).await;
    let wall = started.elapsed();
    let end = CpuMark::now(Some(relay));
    let redis_end = commands_processed(redis).await;
    errors.extend(stream_errors);
    Outcome {
        results,
        errors,
        wall,
        relay_cpu_s: end.relay - cpu.relay,
        own_cpu_s: end.own - cpu.own,
        // Less the INFO call that read the first count.
        redis_commands: redis_start
            .zip(redis_end)
            .map(|(start, end)| end.saturating_sub(start + 1)),
        relay_warnings: relay.warnings() - warnings,
        loadavg_start,
        loadavg_end: procfs::loadavg(),
    }
}

/// The same streams read straight from the upstream.
async fn direct(
    http: &reqwest::Client,
    upstream: &str,
    count: usize,
    script: impl Fn(usize) -> Script,
) -> Outcome {
    let loadavg_start = procfs::loadavg();
    let cpu = CpuMark::now(None);
    let started = Instant::now();
    let tasks = (0..count)
        .map(|i| {
            let http = http.clone();
            let upstream = upstream.to_owned();
            let script = script(i);
            tokio::spawn(tokio::time::timeout(STREAM_TIMEOUT, async move {
                clients::direct(&http, &upstream, script).await
            }))
        })
        .collect();
    let (results, errors) = collect(tasks).await;
    let wall = started.elapsed();
    let end = CpuMark::now(None);
    Outcome {
        results,
        errors,
        wall,
        relay_cpu_s: 0.0,
        own_cpu_s: end.own - cpu.own,
        redis_commands: None,
        relay_warnings: 0,
        loadavg_start,
        loadavg_end: procfs::loadavg(),
    }
}

fn report_errors(what: &str, outcome: &Outcome) {
    if let Some(first) = outcome.errors.first() {
        eprintln!(
            "    {what}: {} streams failed; first: {first}",
            outcome.errors.len()
        );
    }
}

/// What else a relayed result says: Redis commands per token (through a Redis-backed relay)
/// and the warnings the relay logged, if any.
fn relayed_notes(relayed: &Value) -> String {
    let mut notes = String::new();
    if let Some(per) = relayed["redis_commands_per_token"].as_f64() {
        notes.push_str(&format!(", Redis {per:.3} commands/token"));
    }
    match relayed["relay_warnings"].as_u64() {
        Some(0) | None => {}
        Some(n) => notes.push_str(&format!(", {n} relay warnings")),
    }
    notes
}

fn ms(summary: &Value, key: &str) -> f64 {
    summary.get(key).and_then(Value::as_f64).unwrap_or(0.0) / 1000.0
}

/// The figures of one repetition.
pub struct Bench<'a> {
    pub options: &'a Options,
    pub relay: &'a Relay,
    /// The Redis the relay keeps its shared state in, if it does.
    pub redis: Option<&'a RedisServer>,
    pub http: &'a reqwest::Client,
    pub upstream: &'a str,
}

impl Bench<'_> {
    /// Fills both connection pools (the load generator's to the upstream, the relay's to the
    /// upstream) at full concurrency, and warms code paths and allocators.
    pub async fn warm_up(&self) {
        let count = self
            .options
            .paced_streams
            .iter()
            .copied()
            .chain([self.options.throughput_streams])
            .max()
            .unwrap_or(1);
        // Paced over 200 ms, so all `count` streams overlap and each pool ends up with a
        // connection per stream. Burst streams ended within a millisecond and handed their
        // connection on to the next: relay-floor's pool held about 770 after a 1,000-stream
        // warm-up, so the measured phase opened the other 230 itself, and the fake upstream's
        // full accept queue held some of them back by a SYN retry (1 s).
        let script = |_| Script::Paced {
            tokens: 10,
            period: Duration::from_millis(20),
            offset: Duration::ZERO,
        };
        let d = direct(self.http, self.upstream, count, script).await;
        let r = relayed(self.relay, self.redis, "warm", count, script).await;
        report_errors("warm-up direct", &d);
        report_errors("warm-up relayed", &r);
    }

    /// Paced streams at each concurrency: per-token latency, direct and relayed.
    pub async fn latency(&self, rep: usize) -> Vec<Value> {
        let o = self.options;
        let mut rows = Vec::new();
        for &streams in &o.paced_streams {
            let script = |i: usize| Script::Paced {
                tokens: o.paced_tokens,
                period: o.period,
                // Streams start spread over one period, as independent users would.
                offset: o.period.mul_f64(i as f64 / streams.max(1) as f64),
            };
            let d = direct(self.http, self.upstream, streams, script).await;
            report_errors("direct", &d);
            let prefix = format!("lat{rep}-{streams}");
            let r = relayed(self.relay, self.redis, &prefix, streams, script).await;
            report_errors("relayed", &r);
            let (dj, rj) = (d.to_json(false), r.to_json(true));
            let added = |key: &str| ms(&rj["latency"], key) - ms(&dj["latency"], key);
            eprintln!(
                "  {streams:>5} streams x {:.0} tok/s: direct p50 {:.2} ms p99 {:.2} ms | relayed p50 {:.2} ms p99 {:.2} ms ({:.0} tok/s delivered, {} errors) | added p99 {:.2} ms | relay {:.2} CPU-s/Mtok{}",
                1.0 / o.period.as_secs_f64(),
                ms(&dj["latency"], "p50_us"),
                ms(&dj["latency"], "p99_us"),
                ms(&rj["latency"], "p50_us"),
                ms(&rj["latency"], "p99_us"),
                rj["window_tokens_per_s"].as_f64().unwrap_or(0.0),
                r.errors.len(),
                added("p99_us"),
                rj["relay_cpu_s_per_mtok"].as_f64().unwrap_or(0.0),
                relayed_notes(&rj),
            );
            rows.push(json!({
                "streams": streams,
                "tokens_per_stream": o.paced_tokens,
                "period_ms": o.period.as_secs_f64() * 1000.0,
                "offered_tokens_per_s": streams as f64 / o.period.as_secs_f64(),
                "added_p50_us": added("p50_us") * 1000.0,
                "added_p99_us": added("p99_us") * 1000.0,
                "direct": dj,
                "relayed": rj,
            }));
        }
        rows
    }

    /// Unpaced streams: tokens per second, direct and relayed.
    pub async fn throughput(&self, rep: usize) -> Value {
        let o = self.options;
        let streams = o.throughput_streams;
        let script = |_| Script::Burst {
            tokens: o.throughput_tokens,
        };
        let d = direct(self.http, self.upstream, streams, script).await;
        report_errors("direct", &d);
        let r = relayed(
            self.relay,
            self.redis,
            &format!("tput{rep}"),
            streams,
            script,
        )
        .await;
        report_errors("relayed", &r);
        let (dj, rj) = (d.to_json(false), r.to_json(true));
        let rate = |v: &Value| v["tokens_per_s"].as_f64().unwrap_or(0.0);
        eprintln!(
            "  {streams} streams x {} tokens: direct {:.0} tok/s ({} errors, harness {:.2} CPU-s/Mtok) | relayed {:.0} tok/s ({} errors; relay {:.2} CPU-s/Mtok, harness {:.2}{})",
            o.throughput_tokens,
            rate(&dj),
            d.errors.len(),
            dj["harness_cpu_s_per_mtok"].as_f64().unwrap_or(0.0),
            rate(&rj),
            r.errors.len(),
            rj["relay_cpu_s_per_mtok"].as_f64().unwrap_or(0.0),
            rj["harness_cpu_s_per_mtok"].as_f64().unwrap_or(0.0),
            relayed_notes(&rj),
        );
        json!({
            "streams": streams,
            "tokens_per_stream": o.throughput_tokens,
            "upstream_batch": o.upstream_batch,
            "direct": dj,
            "relayed": rj,
        })
    }
}

/// A fresh relay with `count` idle sockets: its RSS per socket.
pub async fn idle(
    bin: &std::path::Path,
    upstream: crate::upstream::Endpoint,
    count: usize,
) -> Result<Value, String> {
    let http = reqwest::Client::new();
    let mut relay = Relay::start(bin, upstream, None).await?;
    // Warm up: one socket opened and closed, so lazily built state is not counted.
    let mut warm = clients::connect_and_ping(&relay.ws, "warm-up").await?;
    let _ = futures_util::SinkExt::close(&mut warm).await;
    drop(warm);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = relay.rss_bytes().ok_or("cannot read the relay's RSS")?;
    let loadavg_start = procfs::loadavg();
    let (sockets, errors) = open_with(count, |i| {
        let ws = relay.ws.clone();
        async move { clients::connect_and_ping(&ws, &format!("idle-{i}")).await }
    })
    .await;
    if let Some(first) = errors.first() {
        eprintln!("  idle: {} sockets failed; first: {first}", errors.len());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let open = relay::health_field(&http, &relay.http, "connections").await;
    let fds = relay.open_fds();
    let Some(after) = relay.rss_bytes() else {
        let status = relay
            .exit_status()
            .unwrap_or_else(|| "still running".to_owned());
        return Err(format!("cannot read the relay's RSS (relay: {status})"));
    };
    let opened = sockets.len();
    let per = after.saturating_sub(before) as f64 / opened.max(1) as f64;
    eprintln!(
        "  {opened} idle sockets (relay reports {open:?} open, {fds:?} descriptors): RSS {before} -> {after} bytes = {per:.0} bytes per socket"
    );
    drop(sockets);
    relay.stop().await;
    Ok(json!({
        "connections": opened,
        "relay_reported_open": open,
        "relay_open_fds": fds,
        "rss_before_bytes": before,
        "rss_after_bytes": after,
        "per_connection_bytes": per,
        "errors": errors.len(),
        "loadavg_start": loadavg_start,
        "loadavg_end": procfs::loadavg(),
    }))
}
