//! Resuming a reply after a dropped connection: `resume` by each id, after the reply
//! finished, past the buffer's bounds, after the grace, by another owner; a repeated
//! `chat_message`; close codes; and a chaos run of 50 answers cut at random points.

use std::time::Duration;

use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use crate::support::*;
use crate::upstream::*;

/// A paced stream of `n` words (`w0 `, `w1 `, …) taking about `n × pause_ms`.
fn paced(n: usize, pause_ms: u64) -> (Reply, String) {
    let mut steps = Vec::new();
    let mut text = String::new();
    for i in 0..n {
        let word = format!("w{i} ");
        steps.push(content(&word));
        steps.push(pause(pause_ms));
        text.push_str(&word);
    }
    steps.extend([finish("stop"), done()]);
    (Reply::Sse(steps), text)
}

fn resume(id_field: &str, id: &str, offset: u64) -> Value {
    json!({"type": "resume", "data": {id_field: id, "offset": offset}})
}

/// Reads `n` frames of a generation (none of them terminal).
async fn frames(client: &mut Client, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(client.next_json().await);
    }
    out
}

/// Asserts that nothing but the `pong` follows: no frame after the terminal one.
async fn assert_nothing_more(client: &mut Client) {
    client.send_text(r#"{"type":"ping"}"#).await;
    let next = client.next_json().await;
    assert_eq!(
        next["type"], "pong",
        "a frame after the terminal one: {next}"
    );
}

/// The terminal frame and the joined tokens of `before` + `after`, checked: offsets run
/// from 1 with no gap or repeat, exactly one terminal frame, last, whose content is the
/// joined tokens.
fn check_whole(before: &[Value], after: &[Value]) -> Value {
    let all: Vec<Value> = before.iter().chain(after).cloned().collect();
    assert_offsets_from(&all, 1);
    let terminal = all
        .iter()
        .filter(|f| f["type"] == "stream_complete" || f["type"] == "error")
        .count();
    assert_eq!(terminal, 1, "{all:?}");
    let done = assert_complete(&all);
    assert_eq!(done["data"]["content"], joined(&all, "stream_token"));
    done
}

#[tokio::test]
async fn a_reply_cut_after_n_tokens_resumes_from_offset_n_without_gap_or_repeat() {
    let up = Upstream::start().await;
    let (reply, text) = paced(30, 15);
    up.push(reply);
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut client = relay.connect("session_resume").await;
    client.chat("hi", "conv_r", "c-1").await;
    let before = frames(&mut client, 5).await;
    let message_id = before[0]["data"]["message_id"].as_str().unwrap().to_owned();
    drop(client); // the connection drops mid-answer
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut client = relay.connect("session_resume").await;
    client.send_json(resume("message_id", &message_id, 5)).await;
    let resumed = client.next_json().await;
    assert_eq!(
        resumed,
        json!({"type": "resumed", "data": {"message_id": message_id, "client_message_id": "c-1",
            "conversation_id": "conv_r", "offset": 5, "recovered": true}})
    );
    let after = client.reply().await;
    let done = check_whole(&before, &after);
    assert_eq!(done["data"]["content"], text);
    assert_nothing_more(&mut client).await;
    assert_eq!(up.chat_requests().len(), 1);
    assert_eq!(
        up.disconnects(),
        0,
        "the upstream request was never dropped"
    );
    let (_, _, metrics) = relay.get("/metrics").await;
    assert!(
        metrics.contains("chatwire_resumes_total{recovered=\"true\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_finished_reply_still_buffered_resumes_with_the_rest_and_its_terminal_frame() {
    let up = Upstream::start().await;
    let (reply, text) = paced(12, 5);
    up.push(reply);
    let mut config = upstream_config(&up.base_url);
    config.resume.grace = Duration::from_millis(300);
    let relay = Relay::start(config).await;
    let mut client = relay.connect("session_done").await;
    client.chat("hi", "conv_d", "c-1").await;
    let before = frames(&mut client, 2).await;
    drop(client);
    // Let the generation finish with nobody watching.
    for _ in 0..100 {
        if relay.state.metrics.streams_active() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(relay.state.metrics.streams_active(), 0);
    let mut client = relay.connect("session_done").await;
    client
        .send_json(resume("client_message_id", "c-1", 2))
        .await;
    let resumed = client.next_json().await;
    assert_eq!(resumed["type"], "resumed");
    assert_eq!(resumed["data"]["recovered"], true);
    assert_eq!(resumed["data"]["offset"], 2);
    let after = client.reply().await;
    assert_eq!(after[0]["data"]["offset"], 3);
    assert_eq!(check_whole(&before, &after)["data"]["content"], text);
    assert_nothing_more(&mut client).await;
    // Resuming again, from the terminal frame's offset, sends nothing more.
    let last = after.last().unwrap()["data"]["offset"].as_u64().unwrap();
    client
        .send_json(resume("client_message_id", "c-1", last))
        .await;
    assert_eq!(client.next_json().await["data"]["recovered"], true);
    assert_nothing_more(&mut client).await;
    // That resume holds nothing: the frames are dropped at the end of the grace, and
    // nothing more is sent then either.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(relay.state.registry.kept(), 0, "the frames are still kept");
    assert_nothing_more(&mut client).await;
}

#[tokio::test]
async fn when_the_grace_expires_the_upstream_request_is_aborted_and_a_resume_is_told_expired() {
    let up = Upstream::start().await;
    let (reply, _) = paced(400, 10);
    up.push(reply);
    let mut config = upstream_config(&up.base_url);
    config.resume.grace = Duration::from_millis(300);
    let relay = Relay::start(config).await;
    let mut client = relay.connect("session_grace").await;
    client.chat("hi", "conv_g", "c-1").await;
    let first = client.next_json().await;
    let message_id = first["data"]["message_id"].as_str().unwrap().to_owned();
    drop(client);
    assert!(
        up.wait_disconnects(1, Duration::from_secs(3)).await,
        "the upstream never saw the abort"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut client = relay.connect("session_grace").await;
    client.send_json(resume("message_id", &message_id, 1)).await;
    let resumed = client.next_json().await;
    assert_eq!(resumed["type"], "resumed");
    assert_eq!(resumed["data"]["recovered"], false);
    assert_eq!(resumed["data"]["message_id"], message_id.as_str());
    let expired = client.next_json().await;
    assert_eq!(expired["type"], "error");
    assert_eq!(expired["data"]["code"], "stream_expired");
    assert_eq!(expired["data"]["retryable"], false);
    assert_eq!(expired["data"]["message_id"], message_id.as_str());
    assert_eq!(expired["data"]["client_message_id"], "c-1");
    // The conversation is free again and the slot released.
    up.push(answer(&["next"]));
    client.chat("again", "conv_g", "c-2").await;
    assert_complete(&client.reply().await);
    let (_, _, metrics) = relay.get("/metrics").await;
    assert!(
        metrics.contains("chatwire_grace_expired_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("chatwire_resumes_total{recovered=\"false\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_repeated_chat_message_resumes_the_generation_instead_of_starting_another() {
    let up = Upstream::start().await;
    let (reply, text) = paced(20, 10);
    up.push(reply);
    up.push(answer(&["a second generation"]));
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut client = relay.connect("session_dup").await;
    client.chat("hi", "conv_dup", "c-1").await;
    let _seen = frames(&mut client, 3).await;
    drop(client);
    // The client's outbox sends the same message again after reconnecting.
    let mut client = relay.connect("session_dup").await;
    client.chat("hi", "conv_dup", "c-1").await;
    let resumed = client.next_json().await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    assert_eq!(resumed["data"]["recovered"], true);
    assert_eq!(resumed["data"]["offset"], 0);
    assert_eq!(resumed["data"]["client_message_id"], "c-1");
    let all = client.reply().await;
    assert_eq!(check_whole(&[], &all)["data"]["content"], text);
    assert_nothing_more(&mut client).await;
    // Once more after it finished: still the same generation, not a new one.
    client.chat("hi", "conv_dup", "c-1").await;
    assert_eq!(client.next_json().await["data"]["recovered"], true);
    let again = client.reply().await;
    assert_eq!(check_whole(&[], &again)["data"]["content"], text);
    assert_eq!(
        up.chat_requests().len(),
        1,
        "a second generation was started"
    );
}

#[tokio::test]
async fn a_resume_by_another_token_owner_is_refused() {
    let up = Upstream::start().await;
    let (reply, text) = paced(20, 10);
    up.push(reply);
    let relay = Relay::start(with_tokens(
        upstream_config(&up.base_url),
        &["token-alice", "token-bob"],
    ))
    .await;
    let mut alice = relay
        .connect_with("session_shared", Some("token-alice"), None)
        .await
        .unwrap();
    alice.chat("my secret plan", "conv_1", "a-1").await;
    let before = frames(&mut alice, 2).await;
    let message_id = before[0]["data"]["message_id"].as_str().unwrap().to_owned();
    drop(alice);
    let mut bob = relay
        .connect_with("session_shared", Some("token-bob"), None)
        .await
        .unwrap();
    for (field, id) in [
        ("message_id", message_id.as_str()),
        ("client_message_id", "a-1"),
        ("conversation_id", "conv_1"),
    ] {
        bob.send_json(resume(field, id, 0)).await;
        let resumed = bob.next_json().await;
        assert_eq!(
            resumed,
            json!({"type": "resumed", "data": {field: id, "offset": 0, "recovered": false}}),
            "{field}"
        );
        // Not even "expired": nothing tells Bob the generation exists.
        assert_nothing_more(&mut bob).await;
    }
    // Another session of the same token is refused too.
    let mut alice_elsewhere = relay
        .connect_with("session_other", Some("token-alice"), None)
        .await
        .unwrap();
    alice_elsewhere
        .send_json(resume("message_id", &message_id, 0))
        .await;
    assert_eq!(
        alice_elsewhere.next_json().await["data"]["recovered"],
        false
    );
    // Alice herself gets it.
    let mut alice = relay
        .connect_with("session_shared", Some("token-alice"), None)
        .await
        .unwrap();
    alice.send_json(resume("message_id", &message_id, 2)).await;
    assert_eq!(alice.next_json().await["data"]["recovered"], true);
    let after = alice.reply().await;
    assert_eq!(check_whole(&before, &after)["data"]["content"], text);
}

#[tokio::test]
async fn a_page_reload_resumes_the_running_generation_by_conversation() {
    let up = Upstream::start().await;
    let (reply, text) = paced(20, 10);
    up.push(reply);
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut page = relay.connect("session_reload").await;
    page.chat("hi", "conv_page", "c-1").await;
    let _ = frames(&mut page, 2).await;
    // A reload closes the socket with 1001 "going away": not a cancel.
    page.ws
        .close(Some(CloseFrame {
            code: CloseCode::Away,
            reason: "".into(),
        }))
        .await
        .unwrap();
    drop(page);
    let mut page = relay.connect("session_reload").await;
    page.send_json(resume("conversation_id", "conv_page", 0))
        .await;
    let resumed = page.next_json().await;
    assert_eq!(resumed["data"]["recovered"], true, "{resumed}");
    assert_eq!(resumed["data"]["client_message_id"], "c-1");
    assert!(resumed["data"]["message_id"].is_string());
    let all = page.reply().await;
    assert_eq!(check_whole(&[], &all)["data"]["content"], text);
    // Finished: a reload now finds nothing running.
    page.send_json(resume("conversation_id", "conv_page", 0))
        .await;
    assert_eq!(
        page.next_json().await,
        json!({"type": "resumed", "data": {"conversation_id": "conv_page", "offset": 0, "recovered": false}})
    );
    // An id the relay never saw is not recovered either, and nothing else follows.
    page.send_json(resume("message_id", "msg_0000000000000000", 3))
        .await;
    assert_eq!(
        page.next_json().await,
        json!({"type": "resumed", "data": {"message_id": "msg_0000000000000000", "offset": 3, "recovered": false}})
    );
    assert_nothing_more(&mut page).await;
}

#[tokio::test]
async fn a_close_with_1000_stops_the_reply_at_once() {
    let up = Upstream::start().await;
    let (reply, _) = paced(200, 10);
    up.push(reply);
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut client = relay.connect("session_bye").await;
    client.chat("hi", "conv_bye", "c-1").await;
    let first = client.next_json().await;
    let message_id = first["data"]["message_id"].as_str().unwrap().to_owned();
    client
        .ws
        .close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        }))
        .await
        .unwrap();
    drop(client);
    assert!(up.wait_disconnects(1, Duration::from_millis(500)).await);
    // What it left is the cancelled reply, still resumable until the grace ends.
    let mut client = relay.connect("session_bye").await;
    client.send_json(resume("message_id", &message_id, 1)).await;
    assert_eq!(client.next_json().await["data"]["recovered"], true);
    let rest = client.reply().await;
    assert_error(&rest, "cancelled");
}

#[tokio::test]
async fn a_resume_past_the_buffer_bound_is_not_recovered() {
    let up = Upstream::start().await;
    let (reply, _) = paced(40, 1);
    up.push(reply);
    let mut config = upstream_config(&up.base_url);
    config.resume.bounds.max_frames = 8;
    let relay = Relay::start(config).await;
    let mut client = relay.connect("session_bound").await;
    client.chat("hi", "conv_b", "c-1").await;
    let first = client.next_json().await;
    let message_id = first["data"]["message_id"].as_str().unwrap().to_owned();
    drop(client);
    for _ in 0..100 {
        if relay.state.metrics.streams_active() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut client = relay.connect("session_bound").await;
    client.send_json(resume("message_id", &message_id, 1)).await;
    let resumed = client.next_json().await;
    assert_eq!(resumed["data"]["recovered"], false, "{resumed}");
    assert_eq!(client.next_json().await["data"]["code"], "stream_expired");
    // The last frames are still there: 41 frames in all, 8 kept.
    client
        .send_json(resume("message_id", &message_id, 33))
        .await;
    assert_eq!(client.next_json().await["data"]["recovered"], true);
    let rest = client.reply().await;
    assert_offsets_from(&rest, 34);
    assert_complete(&rest);
}

#[tokio::test]
async fn a_slow_watcher_is_never_overrun_by_the_buffer_bound() {
    let up = Upstream::start().await;
    let words: Vec<String> = (0..200).map(|i| format!("t{i} ")).collect();
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    up.push(answer(&refs));
    let mut config = upstream_config(&up.base_url);
    config.resume.bounds.max_frames = 8;
    let relay = Relay::start(config).await;
    let mut client = relay.connect("session_slow").await;
    client.chat("hi", "conv_s", "c-1").await;
    // A client that reads slowly still gets every frame: the reply waits for it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = client.reply().await;
    assert_eq!(check_whole(&[], &all)["data"]["content"], words.concat());
}

/// What one chaos answer saw.
#[derive(Default)]
struct Seen {
    frames_before_cut: usize,
    frames_after_resume: usize,
    lost: u64,
    repeated: u64,
    terminal_frames: usize,
    content_matches: bool,
}

/// Counts, rather than asserts, what was lost or repeated in one answer's frames.
fn seen(before: &[Value], after: &[Value]) -> Seen {
    let all: Vec<&Value> = before.iter().chain(after).collect();
    let mut offsets: Vec<u64> = all
        .iter()
        .map(|f| f["data"]["offset"].as_u64().unwrap())
        .collect();
    let last = all
        .last()
        .map_or(0, |f| f["data"]["offset"].as_u64().unwrap());
    let total = offsets.len() as u64;
    offsets.sort_unstable();
    offsets.dedup();
    let terminal = all
        .iter()
        .filter(|f| f["type"] == "stream_complete")
        .count();
    let tokens: String = all
        .iter()
        .filter(|f| f["type"] == "stream_token")
        .map(|f| f["data"]["token"].as_str().unwrap())
        .collect();
    Seen {
        frames_before_cut: before.len(),
        frames_after_resume: after.len(),
        lost: last - offsets.len() as u64,
        repeated: total - offsets.len() as u64,
        terminal_frames: terminal,
        content_matches: all
            .last()
            .is_some_and(|f| f["data"]["content"].as_str() == Some(tokens.as_str())),
    }
}

/// 50 answers, each cut at a random point (a dropped socket or a 1001 close) and resumed by a
/// random id from the last offset applied: nothing lost, nothing repeated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_fifty_answers_cut_at_random_points_lose_and_repeat_nothing() {
    const ANSWERS: usize = 50;
    // The offline answer to "question N" is 26 tokens and its stream_complete.
    const TOKENS: u64 = 26;
    let mut config = offline_config();
    config.upstream.offline_token_delay = Duration::from_millis(4);
    let relay = std::sync::Arc::new(Relay::start(config).await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..ANSWERS {
        let relay = std::sync::Arc::clone(&relay);
        tasks.spawn(async move {
            let roll = chatwire_relay::ids::random_u64();
            let session = format!("session_chaos_{i}");
            let mut client = relay.connect(&session).await;
            let client_id = format!("chaos-{i}");
            client
                .chat(&format!("question {i}"), &format!("conv_{i}"), &client_id)
                .await;
            // Cut after 0..=25 frames: always before the terminal one.
            let before = frames(&mut client, (roll % TOKENS) as usize).await;
            if roll & (1 << 40) == 0 {
                drop(client);
            } else {
                let _ = client
                    .ws
                    .close(Some(CloseFrame {
                        code: CloseCode::Away,
                        reason: "".into(),
                    }))
                    .await;
                drop(client);
            }
            tokio::time::sleep(Duration::from_millis(roll % 60)).await;
            let mut client = relay.connect(&session).await;
            let offset = before.len() as u64;
            let request = if roll & (1 << 41) == 0 && !before.is_empty() {
                let id = before[0]["data"]["message_id"].as_str().unwrap().to_owned();
                resume("message_id", &id, offset)
            } else {
                resume("client_message_id", &client_id, offset)
            };
            client.send_json(request).await;
            let resumed = client.next_json().await;
            assert_eq!(resumed["data"]["recovered"], true, "{resumed}");
            assert_eq!(resumed["data"]["offset"], offset);
            let after = client.reply().await;
            assert_nothing_more(&mut client).await;
            seen(&before, &after)
        });
    }
    let mut all = Vec::new();
    while let Some(result) = tasks.join_next().await {
        all.push(result.unwrap());
    }
    let sum = |f: fn(&Seen) -> u64| all.iter().map(f).sum::<u64>();
    let complete = all
        .iter()
        .filter(|s| s.terminal_frames == 1 && s.content_matches)
        .count();
    let lost = sum(|s| s.lost);
    let repeated = sum(|s| s.repeated);
    println!(
        "chaos: {} answers cut and resumed, {complete} complete, {} frames before the cuts, {} after the resumes, {lost} lost, {repeated} repeated",
        all.len(),
        sum(|s| s.frames_before_cut as u64),
        sum(|s| s.frames_after_resume as u64),
    );
    assert_eq!(all.len(), ANSWERS);
    assert_eq!(complete, ANSWERS);
    assert_eq!((lost, repeated), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_zero_grace_a_watched_reply_completes_and_a_dropped_one_stops_at_once() {
    let up = Upstream::start().await;
    let mut config = upstream_config(&up.base_url);
    config.resume.grace = Duration::ZERO;
    let relay = Relay::start(config).await;
    let mut client = relay.connect("session_zero").await;
    for i in 0..20 {
        up.push(answer(&["quick", " reply"]));
        client
            .chat("hi", &format!("conv_{i}"), &format!("c-{i}"))
            .await;
        let frames = client.reply().await;
        assert_eq!(check_whole(&[], &frames)["data"]["content"], "quick reply");
    }
    let (reply, _) = paced(200, 10);
    up.push(reply);
    client.chat("hi", "conv_slow", "c-slow").await;
    assert_eq!(client.next_json().await["type"], "stream_token");
    drop(client);
    assert!(up.wait_disconnects(1, Duration::from_millis(500)).await);
}
