//! Two relay instances sharing one real Redis (`RELAY_REDIS_URL`): history written through
//! one is used by the other, a conversation busy on one is busy on the other, a client id
//! accepted by one is not answered again by the other, and Redis going away is reported and
//! survived. Each test starts its own Debian `redis-server` on a free port, persistence off;
//! without `redis-server` installed the tests fail (scripts/setup.sh test installs it).

use std::net::TcpListener as StdListener;
use std::process::Stdio;
use std::time::Duration;

use chatwire_relay::redis_conn::Redis;
use chatwire_relay::Config;
use futures_util::{FutureExt, StreamExt};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;
use crate::upstream::*;

/// A `redis-server` child process, killed on drop.
struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    async fn start() -> RedisServer {
        let port = StdListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = RedisServer { port, child: None };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        let bin = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned());
        let child = Command::new(&bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `{bin}` ({e}): these tests need Debian's redis-server \
                     (`scripts/setup.sh test` or `apt-get install redis-server`)"
                )
            });
        self.child = Some(child);
        let redis = Redis::open(&self.url()).unwrap();
        for _ in 0..100 {
            if redis.ping().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "redis-server on port {} did not answer PING in 5 s",
            self.port
        );
    }

    /// Kills the server (like a crash: nothing is saved).
    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// A plain connection for the test's own checks.
    async fn conn(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }
}

fn shared_config(server: &RedisServer) -> Config {
    let mut config = offline_config();
    config.redis = Some(Redis::open(&server.url()).unwrap());
    config.redis_lease = Duration::from_millis(1_500);
    config
}

/// Two instances sharing `server`: A answers one token per `token_delay` (so its replies
/// are still running when a test moves to B), B with the defaults.
async fn two_instances(server: &RedisServer, token_delay: Duration) -> (Relay, Relay) {
    let mut slow = shared_config(server);
    slow.upstream.offline_token_delay = token_delay;
    (
        Relay::start(slow).await,
        Relay::start(shared_config(server)).await,
    )
}

async fn ttl(conn: &mut redis::aio::MultiplexedConnection, key: &str) -> i64 {
    redis::cmd("PTTL").arg(key).query_async(conn).await.unwrap()
}

#[tokio::test]
async fn history_written_through_one_instance_is_used_by_another() {
    let server = RedisServer::start().await;
    let a = Relay::start(shared_config(&server)).await;
    let b = Relay::start(shared_config(&server)).await;

    let mut on_a = a.connect("session_shared").await;
    on_a.chat("Remember Paris", "conv_h", "c-1").await;
    let first = joined(&on_a.reply().await, "stream_token");
    assert!(first.contains("message 1 "), "{first}");

    let mut on_b = b.connect("session_shared").await;
    on_b.chat("Where was I?", "conv_h", "c-2").await;
    let frames = on_b.reply().await;
    let second = joined(&frames, "stream_token");
    assert_complete(&frames);
    assert!(
        second.contains("message 2 "),
        "B did not see A's history: {second}"
    );

    // What B wrote is in Redis under the conversation's keys, with the idle TTL, and no
    // lease is left behind.
    let mut conn = server.conn().await;
    let history_key = "chatwire:{conv:0:session_shared:conv_h}:history";
    let stored: String = redis::cmd("GET")
        .arg(history_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    let turns: serde_json::Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(turns.as_array().unwrap().len(), 4, "{turns}");
    assert_eq!(turns[2]["content"], "Where was I?");
    let history_ttl = ttl(&mut conn, history_key).await;
    assert!(
        history_ttl > 29 * 24 * 3600 * 1000 && history_ttl <= 30 * 24 * 3600 * 1000,
        "history TTL {history_ttl} ms"
    );
    let lease_ttl = ttl(&mut conn, "chatwire:{conv:0:session_shared:conv_h}:lease").await;
    assert_eq!(lease_ttl, -2, "the lease must be gone after the reply");
    let client_ttl = ttl(&mut conn, "chatwire:{sess:0:session_shared}:client:c-2").await;
    assert!(
        client_ttl > 0,
        "accepted client id without TTL: {client_ttl}"
    );
    // Other sessions do not see it.
    let mut other = b.connect("session_other").await;
    other.chat("Hello", "conv_h", "c-1").await;
    let text = joined(&other.reply().await, "stream_token");
    assert!(text.contains("message 1 "), "{text}");
}

#[tokio::test]
async fn a_conversation_busy_on_one_instance_is_busy_on_another() {
    let server = RedisServer::start().await;
    let (a, b) = two_instances(&server, Duration::from_millis(60)).await;

    let mut on_a = a.connect("session_busy").await;
    on_a.chat("Take your time", "conv_b", "c-1").await;
    let first = on_a.next_json().await;
    assert_eq!(first["type"], "stream_token", "{first}");

    let mut on_b = b.connect("session_busy").await;
    on_b.chat("Me too", "conv_b", "c-2").await;
    let refused = on_b.reply().await;
    let error = assert_error(&refused, "busy");
    assert_eq!(error["data"]["retryable"], true);
    assert_eq!(error["data"]["client_message_id"], "c-2");
    // Another conversation of the same session is free on B meanwhile.
    on_b.chat("Elsewhere", "conv_other", "c-3").await;
    assert_complete(&on_b.reply().await);

    // Once A's reply ends, the conversation is free on B, and B sees A's exchange.
    assert_complete(&on_a.reply().await);
    on_b.chat("Now?", "conv_b", "c-4").await;
    let text = joined(&on_b.reply().await, "stream_token");
    assert!(text.contains("message 2 "), "{text}");
}

#[tokio::test]
async fn a_lease_held_longer_than_its_ttl_is_renewed() {
    // 1.5 s lease, a reply of about 3 s on A: without renewal B could start meanwhile.
    let server = RedisServer::start().await;
    let (a, b) = two_instances(&server, Duration::from_millis(100)).await;
    let mut on_a = a.connect("session_renew").await;
    on_a.chat("A long one please", "conv_r", "c-1").await;
    assert_eq!(on_a.next_json().await["type"], "stream_token");
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    let mut on_b = b.connect("session_renew").await;
    on_b.chat("Still busy?", "conv_r", "c-2").await;
    assert_error(&on_b.reply().await, "busy");
}

#[tokio::test]
async fn a_client_id_accepted_by_one_instance_is_not_answered_again_by_another() {
    let server = RedisServer::start().await;
    let a = Relay::start(shared_config(&server)).await;
    let b = Relay::start(shared_config(&server)).await;
    let mut on_a = a.connect("session_ids").await;
    on_a.chat("Once", "conv_i", "c-1").await;
    let done = assert_complete(&on_a.reply().await);

    // The outbox re-sends the same message through B: it is not generated twice, B replays
    // A's answer from Redis.
    let mut on_b = b.connect("session_ids").await;
    on_b.chat("Once", "conv_i", "c-1").await;
    let frames = on_b.reply().await;
    assert_eq!(frames[0]["type"], "resumed", "{frames:?}");
    assert_eq!(frames[0]["data"]["recovered"], true, "{frames:?}");
    let replayed = assert_complete(&frames);
    assert_eq!(replayed["data"]["message_id"], done["data"]["message_id"]);
    assert_eq!(replayed["data"]["content"], done["data"]["content"]);
    assert_offsets_from(&frames[1..], 1);
    // And the conversation's history holds the exchange once.
    on_b.chat("Twice?", "conv_i", "c-2").await;
    let text = joined(&on_b.reply().await, "stream_token");
    assert!(text.contains("message 2 "), "{text}");
}

#[tokio::test]
async fn a_reply_cut_on_one_instance_is_resumed_through_another() {
    let server = RedisServer::start().await;
    let (a, b) = two_instances(&server, Duration::from_millis(40)).await;

    let mut on_a = a.connect("session_move").await;
    on_a.chat("Tell me a story", "conv_m", "c-1").await;
    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(on_a.next_json().await);
    }
    assert_offsets_from(&seen, 1);
    let message_id = seen[0]["data"]["message_id"].as_str().unwrap().to_owned();
    // The connection to A drops (no close frame), and the client comes back through B.
    drop(on_a);

    let mut on_b = b.connect("session_move").await;
    on_b.send_json(
        serde_json::json!({"type": "resume", "data": {"message_id": message_id, "offset": 5}}),
    )
    .await;
    let resumed = on_b.next_json().await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    assert_eq!(resumed["data"]["recovered"], true, "{resumed}");
    assert_eq!(resumed["data"]["conversation_id"], "conv_m");
    let rest = on_b.reply().await;
    assert_offsets_from(&rest, 6);
    seen.extend(rest);
    let done = assert_complete(&seen);
    assert_eq!(
        seen.iter()
            .filter(|f| f["type"] == "stream_complete" || f["type"] == "error")
            .count(),
        1,
        "one terminal frame: {seen:?}"
    );
    assert_eq!(joined(&seen, "stream_token"), done["data"]["content"]);
    assert_eq!(done["data"]["message_id"], message_id.as_str());
    // Every key the two instances wrote has a TTL, and one conversation's keys share a tag.
    let mut conn = server.conn().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    for kind in [":history", ":frames:", ":msg:", ":client:"] {
        assert!(
            keys.iter().any(|k| k.contains(kind)),
            "no {kind} key in {keys:?}"
        );
    }
    for key in &keys {
        let ttl = ttl(&mut conn, key).await;
        assert!(ttl > 0, "{key} has no TTL ({ttl})");
        assert!(
            key.starts_with("chatwire:{conv:0:session_move:conv_m}:")
                || key.starts_with("chatwire:{sess:0:session_move}:"),
            "{key}"
        );
    }
    // Nothing follows the terminal frame.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), on_b.next_json())
            .await
            .is_err(),
        "a frame after the terminal one"
    );
}

/// An answer followed only from another instance runs past the resume grace of the
/// instance running it: the follower's mark in Redis counts as a watcher there. (Without
/// it the running instance dropped the answer a grace after its own socket left, and the
/// follower got `upstream_unavailable`.)
/// Starts a long answer (it quotes a message of 35 words: about 60 tokens) on `a`, drops
/// that socket after the first frame, and resumes the answer through `b`; returns the first
/// frame and the socket on `b`, its `resumed {recovered: true}` read.
async fn follow_from_the_other_instance(
    a: &Relay,
    b: &Relay,
    session: &str,
) -> (serde_json::Value, Client) {
    let mut on_a = a.connect(session).await;
    on_a.chat(&"word ".repeat(35), "conv_long", "c-1").await;
    let first = on_a.next_json().await;
    let message_id = first["data"]["message_id"].as_str().unwrap().to_owned();
    drop(on_a);
    let mut on_b = b.connect(session).await;
    on_b.send_json(
        serde_json::json!({"type": "resume", "data": {"message_id": message_id, "offset": 1}}),
    )
    .await;
    let resumed = on_b.next_json().await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    assert_eq!(resumed["data"]["recovered"], true, "{resumed}");
    (first, on_b)
}

#[tokio::test]
async fn an_answer_followed_only_from_another_instance_outlives_the_grace() {
    let server = RedisServer::start().await;
    let grace = Duration::from_millis(600);
    let config = || {
        let mut config = shared_config(&server);
        config.resume.grace = grace;
        config.upstream.offline_token_delay = Duration::from_millis(50);
        config
    };
    let (a, b) = (Relay::start(config()).await, Relay::start(config()).await);

    // About 60 tokens, 3 s at 50 ms each.
    let (first, mut on_b) = follow_from_the_other_instance(&a, &b, "session_far").await;
    let started = std::time::Instant::now();
    let mut seen = vec![first];
    seen.extend(on_b.reply().await);
    let done = assert_complete(&seen);
    assert_eq!(joined(&seen, "stream_token"), done["data"]["content"]);
    assert!(
        started.elapsed() > grace * 3,
        "the reply ended within {:?}, too soon to test the grace",
        started.elapsed()
    );
}

/// The other direction: once the follower on the other instance leaves, the running
/// instance drops the answer (when the follower's mark lapses: its TTL is at least 3 s),
/// long before the answer would have ended.
#[tokio::test]
async fn an_answer_is_dropped_once_its_follower_on_another_instance_leaves() {
    let server = RedisServer::start().await;
    let config = || {
        let mut config = shared_config(&server);
        config.resume.grace = Duration::from_millis(300);
        config.upstream.offline_token_delay = Duration::from_millis(200);
        config
    };
    let (a, b) = (Relay::start(config()).await, Relay::start(config()).await);
    let grace_expired = || async {
        let (_, _, metrics) = a.get("/metrics").await;
        metrics.contains("chatwire_grace_expired_total 1")
    };

    // About 60 tokens at 200 ms: 12 s if nobody drops it.
    let (_, mut on_b) = follow_from_the_other_instance(&a, &b, "session_left").await;
    // Followed from B past A's own grace: still running.
    let followed = on_b.next_json().await;
    assert_eq!(followed["type"], "stream_token", "{followed}");
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(!grace_expired().await, "dropped while followed from B");
    drop(on_b);

    let left = std::time::Instant::now();
    while !grace_expired().await {
        assert!(
            left.elapsed() < Duration::from_millis(6_500),
            "still running 6.5 s after its only follower left"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// After a page reload the client knows only the conversation: `resume {conversation_id}`
/// through another instance attaches to the reply still running on the first one, from
/// its first frame, even when that other instance answered an earlier turn of the
/// conversation itself; once the reply has finished, the same resume finds nothing.
#[tokio::test]
async fn a_reply_is_resumed_by_conversation_through_another_instance() {
    let server = RedisServer::start().await;
    let (a, b) = two_instances(&server, Duration::from_millis(40)).await;
    // The conversation's first turn was answered on B: B knows it, finished.
    let mut earlier = b.connect("session_reload").await;
    earlier.chat("Hello", "conv_r", "c-0").await;
    assert_complete(&earlier.reply().await);

    let mut on_a = a.connect("session_reload").await;
    on_a.chat("Tell me a story", "conv_r", "c-1").await;
    let first = on_a.next_json().await;
    let message_id = first["data"]["message_id"].as_str().unwrap().to_owned();
    drop(on_a);

    let resume =
        serde_json::json!({"type": "resume", "data": {"conversation_id": "conv_r", "offset": 0}});
    let mut on_b = b.connect("session_reload").await;
    on_b.send_json(resume.clone()).await;
    let resumed = on_b.next_json().await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    assert_eq!(resumed["data"]["recovered"], true, "{resumed}");
    assert_eq!(resumed["data"]["message_id"], message_id.as_str());
    let reply = on_b.reply().await;
    assert_offsets_from(&reply, 1);
    let done = assert_complete(&reply);
    assert_eq!(joined(&reply, "stream_token"), done["data"]["content"]);

    let mut again = b.connect("session_reload").await;
    again.send_json(resume).await;
    let resumed = again.next_json().await;
    assert_eq!(resumed["data"]["recovered"], false, "{resumed}");
}

/// The relay binary on a free port with `RELAY_REDIS_URL`; returns it and its address.
async fn spawn_binary(server: &RedisServer, lease_ms: u64) -> (Child, std::net::SocketAddr) {
    use tokio::io::AsyncBufReadExt;
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatwire-relay"))
        .current_dir(std::env::temp_dir())
        .env_clear()
        .env("RELAY_ADDR", "127.0.0.1:0")
        .env("RELAY_REDIS_URL", server.url())
        .env("RELAY_REDIS_LEASE_MS", lease_ms.to_string())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(line) = tokio::time::timeout(FRAME_WAIT, lines.next_line())
        .await
        .expect("no start-up line")
        .unwrap()
    {
        if let Some(at) = line.find("listening on http://") {
            let addr = line[at + "listening on http://".len()..]
                .trim()
                .parse()
                .unwrap();
            // Keep draining its log so it never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return (child, addr);
        }
    }
    panic!("the relay binary ended before listening");
}

#[tokio::test]
async fn an_answer_followed_through_another_instance_ends_when_its_instance_is_killed() {
    let server = RedisServer::start().await;
    let lease = Duration::from_millis(1_000);
    let (mut a, a_addr) = spawn_binary(&server, lease.as_millis() as u64).await;
    let b = Relay::start(shared_config(&server)).await;

    let (ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{a_addr}/ws/chat/session_kill/?token=dev"))
            .await
            .unwrap();
    let mut on_a = Client { ws };
    // A long quote makes the offline answer last about 3 s (30 ms per word).
    on_a.chat(&"ab ".repeat(66), "conv_k", "c-1").await;
    let first = on_a.next_json().await;
    let message_id = first["data"]["message_id"].as_str().unwrap().to_owned();
    let mut on_b = b.connect("session_kill").await;
    on_b.send_json(
        serde_json::json!({"type": "resume", "data": {"message_id": message_id, "offset": 1}}),
    )
    .await;
    let resumed = on_b.next_json().await;
    assert_eq!(resumed["data"]["recovered"], true, "{resumed}");
    let second = on_b.next_json().await;
    assert_eq!(second["data"]["offset"], 2, "{second}");

    // kill -9: no goodbye, its lease is left to expire.
    a.kill().await.unwrap();
    let killed = std::time::Instant::now();
    let mut rest = vec![second];
    loop {
        let frame = on_b.next_json().await;
        let terminal = frame["type"] != "stream_token";
        rest.push(frame);
        if terminal {
            break;
        }
    }
    let waited = killed.elapsed();
    eprintln!("terminal error {waited:?} after kill -9 (lease {lease:?})");
    let error = assert_error(&rest, "upstream_unavailable");
    assert_eq!(error["data"]["retryable"], true);
    assert_eq!(error["data"]["message_id"], message_id.as_str());
    assert_offsets_from(&rest, 2);
    assert!(
        waited <= lease + Duration::from_secs(1),
        "the terminal error took {waited:?} after the kill (lease {lease:?})"
    );
    // The conversation is free again for a new message, through B.
    on_b.chat("Again", "conv_k", "c-2").await;
    assert_complete(&on_b.reply().await);
}

#[tokio::test]
async fn a_cancel_sent_to_one_instance_stops_the_generation_on_another() {
    let server = RedisServer::start().await;
    let up = Upstream::start().await;
    up.push(Reply::Sse(slow_steps()));
    let mut on_upstream = upstream_config(&up.base_url);
    on_upstream.redis = Some(Redis::open(&server.url()).unwrap());
    on_upstream.redis_lease = Duration::from_millis(1_500);
    let a = Relay::start(on_upstream).await;
    let b = Relay::start(shared_config(&server)).await;

    let mut on_a = a.connect("session_cancel").await;
    on_a.chat("hi", "conv_c", "c-1").await;
    let first = on_a.next_json().await;
    let message_id = first["data"]["message_id"].as_str().unwrap().to_owned();
    let mut on_b = b.connect("session_cancel").await;
    let sent = std::time::Instant::now();
    on_b.send_json(serde_json::json!({"type": "cancel", "data": {"message_id": message_id}}))
        .await;
    let frames = on_a.reply().await;
    let error = assert_error(&frames, "cancelled");
    assert_eq!(error["data"]["message_id"], message_id.as_str());
    assert!(
        up.wait_disconnects(1, Duration::from_secs(1)).await,
        "upstream request not dropped"
    );
    eprintln!("cancel through another instance took {:?}", sent.elapsed());
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "{:?}",
        sent.elapsed()
    );

    // The flag is the state, pub/sub only the wake-up: a flag set with no message still
    // stops the generation (A reads it every third of the lease).
    up.push(Reply::Sse(slow_steps()));
    on_a.chat("again", "conv_c2", "c-2").await;
    let first = on_a.next_json().await;
    let message_id = first["data"]["message_id"].as_str().unwrap().to_owned();
    let mut conn = server.conn().await;
    let _: () = redis::cmd("SET")
        .arg(format!(
            "chatwire:{{conv:0:session_cancel:conv_c2}}:cancel:{message_id}"
        ))
        .arg("cancelled")
        .arg("PX")
        .arg(60_000)
        .query_async(&mut conn)
        .await
        .unwrap();
    let set = std::time::Instant::now();
    assert_error(&on_a.reply().await, "cancelled");
    eprintln!("cancel by the flag alone took {:?}", set.elapsed());
    assert!(
        set.elapsed() < Duration::from_secs(1),
        "{:?}",
        set.elapsed()
    );
}

/// About 10 s of keep-alives after the first word, unless cancelled.
fn slow_steps() -> Vec<Step> {
    let mut steps = vec![content("Thinking")];
    for _ in 0..200 {
        steps.extend([pause(50), Step::Send(": keep-alive\n\n".into())]);
    }
    steps.extend([finish("stop"), done()]);
    steps
}

#[tokio::test]
async fn sigterm_closes_sockets_at_once_and_the_answer_completes_through_another_instance() {
    let server = RedisServer::start().await;
    let (mut a, a_addr) = spawn_binary(&server, 1_000).await;
    let b = Relay::start(shared_config(&server)).await;

    let (ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{a_addr}/ws/chat/session_term/?token=dev"))
            .await
            .unwrap();
    let mut on_a = Client { ws };
    on_a.chat(&"ab ".repeat(66), "conv_t", "c-1").await;
    let mut seen = vec![on_a.next_json().await];
    let message_id = seen[0]["data"]["message_id"].as_str().unwrap().to_owned();

    let pid = a.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let signalled = std::time::Instant::now();
    // The socket closes with 1012 at once; frames sent before the close still count.
    let code = loop {
        let next = tokio::time::timeout(FRAME_WAIT, on_a.ws.next())
            .await
            .expect("no close after SIGTERM");
        match next {
            Some(Ok(Message::Text(text))) => {
                seen.push(serde_json::from_str(text.as_str()).unwrap())
            }
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            other => panic!("socket ended without a close frame: {other:?}"),
        }
    };
    assert_eq!(code, Some(1012));
    assert!(
        signalled.elapsed() < Duration::from_millis(500),
        "{:?}",
        signalled.elapsed()
    );
    assert!(
        seen.iter().all(|f| f["type"] == "stream_token"),
        "the answer ended on A: {seen:?}"
    );
    let offset = assert_offsets_from(&seen, 1);

    // The client comes back through B and resumes: A finished the answer into Redis.
    let mut on_b = b.connect("session_term").await;
    on_b.send_json(
        serde_json::json!({"type": "resume", "data": {"message_id": message_id, "offset": offset}}),
    )
    .await;
    let resumed = on_b.next_json().await;
    assert_eq!(resumed["data"]["recovered"], true, "{resumed}");
    let rest = on_b.reply().await;
    assert_offsets_from(&rest, offset + 1);
    seen.extend(rest);
    let done = assert_complete(&seen);
    assert_eq!(joined(&seen, "stream_token"), done["data"]["content"]);
    assert!(done["data"]["content"]
        .as_str()
        .unwrap()
        .contains("ab ab ab"));
    // A exits once its answer is written.
    let status = tokio::time::timeout(Duration::from_secs(10), a.wait())
        .await
        .expect("A did not exit")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn redis_restarted_mid_answer_the_answer_completes_and_the_relay_recovers() {
    let mut server = RedisServer::start().await;
    let mut slow = shared_config(&server);
    slow.upstream.offline_token_delay = Duration::from_millis(40);
    let relay = Relay::start(slow).await;
    let mut client = relay.connect("session_restart").await;
    client.chat("Keep going", "conv_r", "c-1").await;
    let mut frames = vec![client.next_json().await];

    // Redis goes away mid-answer (nothing persisted) and comes back on the same port.
    server.kill().await;
    frames.extend(client.reply().await);
    let done = assert_complete(&frames);
    assert_offsets_from(&frames, 1);
    assert_eq!(joined(&frames, "stream_token"), done["data"]["content"]);
    server.spawn().await;

    // The relay reconnects by itself: the conversation is free (its lease went with the
    // old Redis) and the next message is answered.
    let mut answered = false;
    for attempt in 0..20 {
        client
            .chat("Still there?", "conv_r", &format!("c-2-{attempt}"))
            .await;
        let reply = client.reply().await;
        if reply.last().is_some_and(|f| f["type"] == "stream_complete") {
            answered = true;
            break;
        }
        assert_error(&reply, "server_restarting");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answered, "no answer after Redis came back");
    assert_eq!(relay.get("/healthz").await.0, 200);
}

#[tokio::test]
async fn redis_down_is_reported_and_survived() {
    let mut server = RedisServer::start().await;
    let relay = Relay::start(shared_config(&server)).await;
    let (status, _, body) = relay.get("/healthz").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"store\":\"redis\""), "{body}");
    let (_, _, metrics) = relay.get("/metrics").await;
    assert!(metrics.contains("chatwire_redis_up 1"), "{metrics}");

    server.kill().await;
    let (status, _, body) = relay.get("/healthz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("redis_unavailable"), "{body}");
    let (_, _, metrics) = relay.get("/metrics").await;
    assert!(metrics.contains("chatwire_redis_up 0"), "{metrics}");
    let mut client = relay.connect("session_down").await;
    client.chat("Hello?", "conv_d", "c-1").await;
    let error = assert_error(&client.reply().await, "server_restarting");
    assert_eq!(error["data"]["retryable"], true);
    assert_eq!(error["data"]["client_message_id"], "c-1");

    // Back on the same port: the relay reconnects by itself.
    server.spawn().await;
    let mut healthy = false;
    for _ in 0..50 {
        if relay.get("/healthz").await.0 == 200 {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healthy, "/healthz did not recover after Redis came back");
    client.chat("Hello again", "conv_d", "c-2").await;
    assert_complete(&client.reply().await);
}

/// A command's timeout measures Redis, not the caller's runtime: issued, then its runtime's
/// only thread kept busy past the 2 s response timeout (as a saturated relay's workers are),
/// the command still gets its answer, because it and redis-rs's connection driver run on
/// the Redis thread. With the driver on the caller's runtime it timed out.
#[tokio::test]
async fn a_command_is_answered_while_the_callers_runtime_is_busy() {
    let server = RedisServer::start().await;
    let redis = Redis::open(&server.url()).unwrap();
    let mut conn = redis.connection().await.unwrap();
    let command = redis::cmd("PING");
    let mut ping = std::pin::pin!(command.query_async::<String>(&mut conn));
    let answer = match (&mut ping).now_or_never() {
        Some(answer) => answer,
        None => {
            std::thread::sleep(Duration::from_millis(2_500));
            ping.await
        }
    };
    assert_eq!(answer.unwrap(), "PONG");
}

/// Everything one poll of a generation publishes reaches Redis, however many frames that is
/// (a saturated relay reads hundreds of tokens per poll): a burst of 2,000 frames queued
/// without a pause is mirrored whole, in order, the last one marked terminal.
#[tokio::test]
async fn a_burst_of_frames_is_mirrored_whole() {
    use axum::extract::ws::Utf8Bytes;
    use chatwire_relay::auth::TokenId;
    use chatwire_relay::redis_conn::conversation_key;
    use chatwire_relay::registry::{RedisFrames, ResumeConfig, Scope, StoredFrame, StreamMeta};

    let server = RedisServer::start().await;
    let redis = Redis::open(&server.url()).unwrap();
    let frames = RedisFrames::new(
        redis.clone(),
        ResumeConfig::default(),
        Duration::from_millis(1_500),
    );
    let meta = StreamMeta {
        scope: Scope {
            owner: TokenId(0),
            session_id: "s".to_owned(),
        },
        message_id: "msg_burst".to_owned(),
        client_message_id: None,
        conversation_id: "c".to_owned(),
    };
    let mirror = frames.writer(&meta);
    const BURST: u64 = 2_000;
    for offset in 1..=BURST {
        mirror.send(StoredFrame {
            offset,
            terminal: offset == BURST,
            text: Utf8Bytes::from(format!("frame {offset}")),
        });
    }
    frames.flush(Duration::from_secs(10)).await;

    let key = conversation_key(TokenId(0), "s", "c", "frames:msg_burst");
    let mut conn = redis.connection().await.unwrap();
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(&key)
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    let fields: Vec<(String, String)> = entries
        .ids
        .iter()
        .flat_map(|entry| {
            let mut fields: Vec<(String, String)> = entry
                .map
                .iter()
                .map(|(name, value)| (name.clone(), redis::from_redis_value(value).unwrap()))
                .collect();
            fields.sort_by_key(|(name, _)| name.trim_end_matches('t').parse::<u64>().unwrap());
            fields
        })
        .collect();
    assert_eq!(
        fields.len() as u64,
        BURST,
        "frames lost on the way to Redis"
    );
    for (at, (name, text)) in fields.iter().enumerate() {
        let offset = at as u64 + 1;
        let expected_name = if offset == BURST {
            format!("{offset}t")
        } else {
            offset.to_string()
        };
        assert_eq!((name, text), (&expected_name, &format!("frame {offset}")));
    }
}
