//! Measures the relay's memory per idle WebSocket: opens N authenticated sockets that each
//! exchange one ping/pong (so every socket has used its buffers once), holds them idle, and
//! reports the relay process's RSS growth per socket from `/proc/{pid}/status`.
//!
//! ```text
//! # 10,000 sockets from one address: lift the per-address cap (default 256).
//! RELAY_MAX_CONNECTIONS_PER_IP=0 cargo run -p chatwire-relay --profile server &   # note its pid and address
//! ulimit -n 65536
//! cargo run -p chatwire-relay --profile server --example idle_sockets -- 127.0.0.1:8000 PID 10000
//! ```

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

fn rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(addr), Some(pid)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: idle_sockets ADDR RELAY_PID [COUNT]");
        std::process::exit(2);
    };
    let count: usize = args.get(3).and_then(|c| c.parse().ok()).unwrap_or(10_000);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib(pid);
    let started = Instant::now();
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let sockets: Vec<_> = futures_util::stream::iter(0..count)
        .map(|i| {
            let url = format!("ws://{addr}/ws/chat/session_idle_{i}/?token=dev");
            async move {
                let (mut ws, _) =
                    tokio_tungstenite::connect_async_with_config(url, Some(config), true)
                        .await
                        .expect("connect");
                ws.send(Message::text(r#"{"type":"ping"}"#))
                    .await
                    .expect("ping");
                match ws.next().await {
                    Some(Ok(Message::Text(t))) if t.as_str().contains("pong") => {}
                    other => panic!("expected pong, got {other:?}"),
                }
                ws
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let opened = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);
    let per_socket = (after.saturating_sub(before) as f64 * 1024.0) / sockets.len() as f64;
    println!(
        "idle sockets: {}  opened in {:.1?}  relay RSS before {} KiB, after {} KiB  =>  {:.0} bytes per idle socket",
        sockets.len(),
        opened,
        before,
        after,
        per_socket
    );
    drop(sockets);
}
