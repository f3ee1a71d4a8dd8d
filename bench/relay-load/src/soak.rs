//! `relay-load --soak SECONDS`: a fresh relay carries `--soak-streams` concurrent paced
//! streams for the whole time, each stream on a new socket in a new conversation (so sockets,
//! generations, upstream requests and history entries are created and dropped all along).
//! Errors, the relay's RSS, its open descriptors and the generations it holds (`/healthz`
//! `generations_kept`) are printed at the start, every minute, at the end, once the sockets
//! are closed, and once more past the resume grace; a leak shows as growth between the
//! samples, or as generations still held after the grace.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::clients;
use crate::options::Options;
use crate::procfs;
use crate::relay::{self, Relay};
use crate::upstream::Script;

/// A stream may take this long beyond its paced length before it counts as failed.
const STREAM_SLACK: Duration = Duration::from_secs(30);
/// How often a progress line is printed.
const REPORT_EVERY: Duration = Duration::from_secs(60);
/// Errors quoted in the results (the count is always complete).
const QUOTED_ERRORS: usize = 5;
/// How long after the load the last sample is taken: past the relay's resume grace (30 s by
/// default), when it should have let go of every generation.
const SETTLE: Duration = Duration::from_secs(35);

#[derive(Default)]
struct Counters {
    streams: AtomicU64,
    tokens: AtomicU64,
    errors: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

impl Counters {
    fn error(&self, e: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self
            .first_errors
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if first.len() < QUOTED_ERRORS {
            first.push(e);
        }
    }
}

/// The relay's state at one moment.
async fn sample(
    http: &reqwest::Client,
    relay: &Relay,
    label: &str,
    started: Instant,
    counters: &Counters,
) -> Value {
    let kept = relay::health_field(http, &relay.http, "generations_kept").await;
    let s = json!({
        "at": label,
        "elapsed_s": started.elapsed().as_secs_f64().round(),
        "streams_done": counters.streams.load(Ordering::Relaxed),
        "tokens": counters.tokens.load(Ordering::Relaxed),
        "errors": counters.errors.load(Ordering::Relaxed),
        "relay_rss_bytes": relay.rss_bytes(),
        "relay_open_fds": relay.open_fds(),
        "relay_generations_kept": kept,
        "relay_cpu_s": relay.cpu_seconds(),
        "loadavg": procfs::loadavg(),
    });
    eprintln!(
        "  [{label:>7}] {:>5} s: {} streams done, {} tokens, {} errors; relay RSS {:.1} MiB, {} open descriptors, {} generations kept; load {}",
        s["elapsed_s"],
        s["streams_done"],
        s["tokens"],
        s["errors"],
        s["relay_rss_bytes"].as_f64().unwrap_or(0.0) / 1048576.0,
        s["relay_open_fds"],
        s["relay_generations_kept"],
        s["loadavg"].as_str().unwrap_or(""),
    );
    s
}

/// Runs the soak against a relay started for it.
pub async fn run(options: &Options, upstream: crate::upstream::Endpoint) -> Result<Value, String> {
    let duration = options.soak.unwrap_or(Duration::from_secs(60));
    let relay = Arc::new(Relay::start(&options.relay, upstream, None).await?);
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    eprintln!(
        "relay-load: soak, {} concurrent streams of {} tokens at one per {:?}, each on a new socket, for {:?}",
        options.soak_streams, options.soak_tokens, options.period, duration
    );
    let http = reqwest::Client::new();
    let mut samples = vec![sample(&http, &relay, "fresh", started, &counters).await];
    let deadline = started + duration;
    let stream_timeout = options.period * options.soak_tokens as u32 + STREAM_SLACK;
    let workers: Vec<_> = (0..options.soak_streams)
        .map(|w| {
            let relay = relay.clone();
            let counters = counters.clone();
            let o = options.clone();
            tokio::spawn(async move {
                // Spread the first streams over one period, then each worker runs back to back.
                let offset = o.period.mul_f64(w as f64 / o.soak_streams as f64);
                tokio::time::sleep(offset).await;
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let id = format!("soak-{w}-{n}");
                    n += 1;
                    let script = Script::Paced {
                        tokens: o.soak_tokens,
                        period: o.period,
                        offset: Duration::ZERO,
                    };
                    let outcome = tokio::time::timeout(
                        stream_timeout,
                        clients::relayed(&relay.ws, &id, &id, script),
                    )
                    .await;
                    match outcome {
                        Ok(Ok(result)) => {
                            counters.streams.fetch_add(1, Ordering::Relaxed);
                            counters.tokens.fetch_add(result.tokens, Ordering::Relaxed);
                        }
                        Ok(Err(e)) => counters.error(format!("{id}: {e}")),
                        Err(_) => counters.error(format!("{id}: timed out")),
                    }
                }
            })
        })
        .collect();
    // "start": every worker has its first stream running.
    tokio::time::sleep(options.period * 2 + Duration::from_secs(2)).await;
    samples.push(sample(&http, &relay, "start", started, &counters).await);
    let mut next_report = Instant::now() + REPORT_EVERY;
    while Instant::now() + REPORT_EVERY / 2 < deadline {
        tokio::time::sleep_until(next_report.min(deadline).into()).await;
        samples.push(sample(&http, &relay, "running", started, &counters).await);
        next_report += REPORT_EVERY;
    }
    tokio::time::sleep_until(deadline.into()).await;
    samples.push(sample(&http, &relay, "end", started, &counters).await);
    for worker in workers {
        if let Err(e) = worker.await {
            counters.error(format!("worker failed: {e}"));
        }
    }
    // Every socket is closed now: what the relay keeps after the load is gone.
    tokio::time::sleep(Duration::from_secs(2)).await;
    samples.push(sample(&http, &relay, "drained", started, &counters).await);
    // Past the resume grace: every generation should be gone.
    tokio::time::sleep(SETTLE).await;
    samples.push(sample(&http, &relay, "settled", started, &counters).await);
    let elapsed = started.elapsed().as_secs_f64();
    let tokens = counters.tokens.load(Ordering::Relaxed);
    let result = json!({
        "seconds": duration.as_secs(),
        "concurrent_streams": options.soak_streams,
        "tokens_per_stream": options.soak_tokens,
        "period_ms": options.period.as_secs_f64() * 1000.0,
        "streams_done": counters.streams.load(Ordering::Relaxed),
        "tokens": tokens,
        "tokens_per_s": tokens as f64 / elapsed,
        "errors": counters.errors.load(Ordering::Relaxed),
        "first_errors": *counters.first_errors.lock().unwrap_or_else(PoisonError::into_inner),
        "samples": samples,
    });
    if let Ok(relay) = Arc::try_unwrap(relay) {
        relay.stop().await;
    }
    Ok(result)
}
