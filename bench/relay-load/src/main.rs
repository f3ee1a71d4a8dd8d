//! `relay-load`: benchmarks chatwire-relay against an in-process fake OpenAI upstream that
//! writes one SSE event per write with TCP_NODELAY, as a model server does.
//!
//! 1. Latency per token: the upstream stamps each token with its send time; the same paced
//!    streams (100 tokens/s each by default) are read directly from the upstream (SSE) and
//!    through the relay (one WebSocket per stream, a new conversation per stream), at each
//!    concurrency; added = relayed − direct, per percentile.
//! 2. Throughput: unpaced streams, direct and through the relay; tokens/s, errors, and the
//!    relay's CPU-seconds per million tokens (utime + stime from /proc/PID/stat).
//! 3. Memory: the relay's RSS per idle WebSocket, with a fresh relay and many sockets open.
//!
//! 1 and 2 run against a relay with its state in memory and, beside it in the same run, a
//! relay with its shared state in a throwaway `redis-server` (history, leases, the frame
//! buffer as Redis streams), counting the Redis commands it sends per token.
//!
//! With `--floor`, 1 and 2 also run through `relay-floor` (a minimal forwarder, in
//! `src/bin/`) in the relay's place: what any relay adds on this machine.
//!
//! 1 and 2 are repeated (`--repeat`), and every phase records /proc/loadavg: the machine is
//! shared. `--soak SECONDS` runs a long steady load instead (see `soak.rs`). Everything talks
//! to 127.0.0.1 only; every phase is bounded in count and time. Usage:
//! `relay-load --relay target/server/chatwire-relay --out bench/results/relay.json`.

mod clients;
mod clock;
mod flat_json;
mod options;
mod phases;
mod procfs;
mod redis_server;
mod relay;
mod soak;
mod stats;
mod tls;
mod upstream;

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::options::Options;
use crate::phases::Bench;
use crate::redis_server::RedisServer;
use crate::relay::Relay;
use crate::upstream::Endpoint;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn http_client(upstream: Endpoint) -> Result<reqwest::Client, String> {
    let builder = reqwest::Client::builder().tcp_nodelay(true);
    let builder = if upstream.tls {
        builder.add_root_certificate(tls::ca_certificate()?)
    } else {
        builder
    };
    builder.build().map_err(|e| e.to_string())
}

/// The Redis-backed relay measured beside the in-memory one, or why there is none.
async fn start_shared(
    options: &Options,
    upstream: Endpoint,
) -> Result<(RedisServer, Relay), String> {
    if !options.redis {
        return Err("--redis off".to_owned());
    }
    let redis = RedisServer::start().await?;
    let relay = Relay::start(&options.relay, upstream, Some(&redis.url)).await?;
    Ok((redis, relay))
}

/// One repetition's latency and throughput figures through `bench`'s relay.
async fn repetition(bench: &Bench<'_>, rep: usize) -> Value {
    let latency = if bench.options.phases.latency {
        bench.latency(rep).await
    } else {
        Vec::new()
    };
    let throughput = if bench.options.phases.throughput {
        bench.throughput(rep).await
    } else {
        Value::Null
    };
    json!({ "latency": latency, "throughput": throughput })
}

async fn bench(options: &Options, endpoint: Endpoint) -> Result<Value, String> {
    let upstream = endpoint.origin();
    let mut repeats = Vec::new();
    let mut redis_repeats = Vec::new();
    let mut redis_skipped = None;
    let mut floor_repeats = Vec::new();
    if options.phases.latency || options.phases.throughput {
        // Its pool holds a connection per direct stream; it is dropped before the idle phase
        // so those descriptors are free for the idle sockets.
        let http = http_client(endpoint)?;
        let relay = Relay::start(&options.relay, endpoint, None).await?;
        let shared = match start_shared(options, endpoint).await {
            Ok(shared) => Some(shared),
            Err(why) => {
                eprintln!("relay-load: no Redis-backed relay ({why}); Redis rows skipped");
                redis_skipped = Some(why);
                None
            }
        };
        eprintln!(
            "relay-load: relay at {}, fake upstream at {upstream} ({} event(s) per write); load {}",
            relay.http,
            options.upstream_batch,
            procfs::loadavg()
        );
        let in_memory = Bench {
            options,
            relay: &relay,
            redis: None,
            http: &http,
            upstream: &upstream,
        };
        let with_redis = shared.as_ref().map(|(redis, relay)| Bench {
            options,
            relay,
            redis: Some(redis),
            http: &http,
            upstream: &upstream,
        });
        let floor = match &options.floor {
            Some(bin) => Some(Relay::start(bin, endpoint, None).await?),
            None => None,
        };
        let through_floor = floor.as_ref().map(|relay| Bench {
            options,
            relay,
            redis: None,
            http: &http,
            upstream: &upstream,
        });
        in_memory.warm_up().await;
        for bench in with_redis.iter().chain(&through_floor) {
            bench.warm_up().await;
        }
        // Interleaved, so both stores see the same share of whatever else the machine runs.
        for rep in 0..options.repeat {
            eprintln!(
                "relay-load: repetition {} of {}, state in memory; load {}",
                rep + 1,
                options.repeat,
                procfs::loadavg()
            );
            repeats.push(repetition(&in_memory, rep).await);
            if let Some(bench) = &with_redis {
                eprintln!(
                    "relay-load: repetition {} of {}, state in Redis; load {}",
                    rep + 1,
                    options.repeat,
                    procfs::loadavg()
                );
                redis_repeats.push(repetition(bench, rep).await);
            }
            if let Some(bench) = &through_floor {
                eprintln!(
                    "relay-load: repetition {} of {}, the floor (relay-floor); load {}",
                    rep + 1,
                    options.repeat,
                    procfs::loadavg()
                );
                floor_repeats.push(repetition(bench, rep).await);
            }
        }
        relay.stop().await;
        if let Some(floor) = floor {
            floor.stop().await;
        }
        if let Some((redis, relay)) = shared {
            relay.stop().await;
            redis.stop().await;
        }
    }
    let idle = if options.phases.idle {
        eprintln!("relay-load: idle sockets (fresh relay)");
        phases::idle(&options.relay, endpoint, options.idle).await?
    } else {
        Value::Null
    };
    Ok(json!({
        "repeats": repeats,
        "redis": { "repeats": redis_repeats, "skipped": redis_skipped },
        "floor": { "repeats": floor_repeats },
        "idle": idle,
    }))
}

async fn run(options: Options) -> Result<Value, String> {
    let started = unix_now();
    let loadavg_start = procfs::loadavg();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("fake upstream: {e}"))?;
    let endpoint = Endpoint {
        addr: listener.local_addr().map_err(|e| e.to_string())?,
        tls: options.upstream_tls,
    };
    let acceptor = options.upstream_tls.then(tls::acceptor).transpose()?;
    tokio::spawn(upstream::serve(listener, options.upstream_batch, acceptor));
    let mut result = match options.soak {
        Some(_) => soak::run(&options, endpoint).await?,
        None => bench(&options, endpoint).await?,
    };
    result["run"] = json!({
        "started": started,
        "finished": unix_now(),
        "loadavg_start": loadavg_start,
        "loadavg_end": procfs::loadavg(),
        "args": std::env::args().skip(1).collect::<Vec<_>>(),
        "options": {
            "repeat": options.repeat,
            "paced_streams": options.paced_streams,
            "paced_tokens": options.paced_tokens,
            "period_ms": options.period.as_secs_f64() * 1000.0,
            "throughput_streams": options.throughput_streams,
            "throughput_tokens": options.throughput_tokens,
            "idle": options.idle,
            "upstream_batch": options.upstream_batch,
            "upstream_tls": options.upstream_tls,
            "redis": options.redis,
            "floor": options.floor.as_ref().map(|bin| bin.display().to_string()),
        },
    });
    Ok(result)
}

fn main() -> ExitCode {
    let options = match options::parse(std::env::args().skip(1)) {
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
