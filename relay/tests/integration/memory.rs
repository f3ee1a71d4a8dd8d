//! Memory per idle socket: the real binary, 2,000 idle authenticated sockets (each has done
//! one ping/pong), and the growth of the relay's RSS. The target is issue 12's: at most 6 KiB
//! per idle socket (10,000 sockets in `bench/relay-load --phases idle`). It was 9.7-9.9 KB here
//! while the socket task laid out the shared store's futures inline, and 3.8 KB since.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncBufReadExt;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::support::FRAME_WAIT;

const SOCKETS: usize = 2_000;
const BUDGET_BYTES_PER_SOCKET: f64 = 6.0 * 1024.0;

fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_cost_at_most_6_kib_each() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_chatwire-relay"))
        .current_dir(std::env::temp_dir())
        .env_clear()
        .env("RELAY_ADDR", "127.0.0.1:0")
        // 2,050 sockets from one address: over the default per-address cap (256).
        .env("RELAY_MAX_CONNECTIONS_PER_IP", "0")
        .env("RUST_LOG", "warn,chatwire_relay=info")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = tokio::time::timeout(FRAME_WAIT, lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Some(at) = line.find("listening on http://") {
            break line[at + "listening on http://".len()..].trim().to_owned();
        }
    };
    // Warm up: the first sockets pay for one-off allocations (runtime, pools).
    let connect = |i: usize| {
        let url = format!("ws://{addr}/ws/chat/session_mem_{i}/?token=dev");
        async move {
            let config = WebSocketConfig::default()
                .read_buffer_size(4096)
                .write_buffer_size(0);
            let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
                .await
                .unwrap();
            ws.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
            let pong = ws.next().await.unwrap().unwrap();
            assert!(pong.to_text().unwrap().contains("pong"));
            ws
        }
    };
    let warm: Vec<_> = futures_util::stream::iter(0..50)
        .map(connect)
        .buffer_unordered(32)
        .collect()
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss_bytes(pid);
    let idle: Vec<_> = futures_util::stream::iter(50..50 + SOCKETS)
        .map(connect)
        .buffer_unordered(64)
        .collect()
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_bytes(pid);
    let per_socket = after.saturating_sub(before) as f64 / idle.len() as f64;
    println!(
        "relay RSS grew {} KiB for {} idle sockets: {per_socket:.0} bytes each",
        (after - before) / 1024,
        idle.len()
    );
    assert!(
        per_socket <= BUDGET_BYTES_PER_SOCKET,
        "{per_socket:.0} bytes per idle socket"
    );
    drop(idle);
    drop(warm);
    let _ = child.kill().await;
}
