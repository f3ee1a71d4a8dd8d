//! Load check: N sockets each send one chat message at once and read the streamed reply.
//! Reports time to first token (p50/p99/max), total time, and tokens per second. Against
//! the offline provider (30 ms per token) this shows the relay's own overhead under load.
//!
//! ```text
//! RELAY_ADDR=127.0.0.1:18080 RELAY_MAX_UPSTREAM=2000 RELAY_MAX_CONNECTIONS_PER_IP=0 target/server/chatwire-relay &
//! target/server/examples/concurrent_streams 127.0.0.1:18080 1000
//! ```

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

struct Outcome {
    first_token: Duration,
    total: Duration,
    tokens: usize,
}

async fn one(addr: String, i: usize, go: tokio::sync::watch::Receiver<bool>) -> Outcome {
    let url = format!("ws://{addr}/ws/chat/session_load_{i}/?token=dev");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    let mut go = go;
    let _ = go.wait_for(|go| *go).await;
    let started = Instant::now();
    let frame = format!(
        r#"{{"type":"chat_message","data":{{"message":"load test {i}","conversation_id":"c{i}"}}}}"#
    );
    ws.send(Message::text(frame)).await.expect("send");
    let mut first_token = None;
    let mut tokens = 0;
    while let Some(Ok(msg)) = ws.next().await {
        let Message::Text(text) = msg else { continue };
        let text = text.as_str();
        if text.contains(r#""type":"stream_token""#) {
            first_token.get_or_insert_with(|| started.elapsed());
            tokens += 1;
        } else if text.contains(r#""type":"stream_complete""#) {
            break;
        } else {
            panic!("unexpected frame: {text}");
        }
    }
    Outcome {
        first_token: first_token.expect("no token"),
        total: started.elapsed(),
        tokens,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:8000".into());
    let count: usize = args.get(2).and_then(|c| c.parse().ok()).unwrap_or(1000);
    let (go_tx, go_rx) = tokio::sync::watch::channel(false);
    let tasks: Vec<_> = (0..count)
        .map(|i| tokio::spawn(one(addr.clone(), i, go_rx.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await; // let every socket connect
    let started = Instant::now();
    go_tx.send(true).expect("go");
    let mut outcomes = Vec::with_capacity(count);
    for task in tasks {
        outcomes.push(task.await.expect("task"));
    }
    let wall = started.elapsed();
    let mut ttft: Vec<Duration> = outcomes.iter().map(|o| o.first_token).collect();
    ttft.sort();
    let mut totals: Vec<Duration> = outcomes.iter().map(|o| o.total).collect();
    totals.sort();
    let tokens: usize = outcomes.iter().map(|o| o.tokens).sum();
    println!(
        "{count} concurrent streams: first token p50 {:?} p99 {:?} max {:?}; reply p50 {:?} p99 {:?}; {tokens} tokens in {wall:.2?} ({:.0} tokens/s)",
        percentile(&ttft, 0.5),
        percentile(&ttft, 0.99),
        ttft[ttft.len() - 1],
        percentile(&totals, 0.5),
        percentile(&totals, 0.99),
        tokens as f64 / wall.as_secs_f64(),
    );
}
