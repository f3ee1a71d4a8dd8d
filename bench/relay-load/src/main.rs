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
//! 1 and 2 are repeated (`--repeat`), and every phase records /proc/loadavg: the machine is
//! shared. `--soak SECONDS` runs a long steady load instead (see `soak.rs`). Everything talks
//! to 127.0.0.1 only; every phase is bounded in count and time. Usage:
//! `relay-load --relay target/server/chatwire-relay --out bench/results/relay.json`.

mod clients;
mod clock;
mod options;
mod phases;
mod procfs;
mod relay;
mod soak;
mod stats;
mod upstream;

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::options::Options;
use crate::phases::Bench;
use crate::relay::Relay;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .map_err(|e| e.to_string())
}

async fn bench(options: &Options, upstream_addr: std::net::SocketAddr) -> Result<Value, String> {
    let upstream = format!("http://{upstream_addr}");
    let mut repeats = Vec::new();
    if options.phases.latency || options.phases.throughput {
        // Its pool holds a connection per direct stream; it is dropped before the idle phase
        // so those descriptors are free for the idle sockets.
        let http = http_client()?;
        let relay = Relay::start(&options.relay, upstream_addr).await?;
        eprintln!(
            "relay-load: relay at {}, fake upstream at {upstream} ({} event(s) per write); load {}",
            relay.http,
            options.upstream_batch,
            procfs::loadavg()
        );
        let bench = Bench {
            options,
            relay: &relay,
            http: &http,
            upstream: &upstream,
        };
        bench.warm_up().await;
        for rep in 0..options.repeat {
            eprintln!(
                "relay-load: repetition {} of {}; load {}",
                rep + 1,
                options.repeat,
                procfs::loadavg()
            );
            let latency = if options.phases.latency {
                bench.latency(rep).await
            } else {
                Vec::new()
            };
            let throughput = if options.phases.throughput {
                bench.throughput(rep).await
            } else {
                Value::Null
            };
            repeats.push(json!({ "latency": latency, "throughput": throughput }));
        }
        relay.stop().await;
    }
    let idle = if options.phases.idle {
        eprintln!("relay-load: idle sockets (fresh relay)");
        phases::idle(&options.relay, upstream_addr, options.idle).await?
    } else {
        Value::Null
    };
    Ok(json!({ "repeats": repeats, "idle": idle }))
}

async fn run(options: Options) -> Result<Value, String> {
    let started = unix_now();
    let loadavg_start = procfs::loadavg();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("fake upstream: {e}"))?;
    let upstream_addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(upstream::serve(listener, options.upstream_batch));
    let mut result = match options.soak {
        Some(_) => soak::run(&options, upstream_addr).await?,
        None => bench(&options, upstream_addr).await?,
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
