//! Replies: the offline provider, and streaming from the fake OpenAI-compatible upstream
//! (tolerant SSE, reasoning kept apart, usage, history on follow-ups, model discovery).

use std::time::Duration;

use serde_json::json;

use crate::support::*;
use crate::upstream::{self, *};

#[tokio::test]
async fn offline_provider_streams_a_labelled_reply_token_by_token() {
    let relay = Relay::start(offline_config()).await;
    let mut client = relay.connect("session_offline").await;
    client.chat("What is Rust?", "conv_1", "c-1").await;
    let frames = client.reply().await;
    let text = joined(&frames, "stream_token");
    assert!(frames.len() > 5, "expected many tokens: {frames:?}");
    assert!(text.starts_with("[offline demo]"), "{text}");
    assert!(text.contains("What is Rust?"), "{text}");
    let done = assert_complete(&frames);
    assert_eq!(assert_offsets_from(&frames, 1), frames.len() as u64);
    assert_eq!(done["data"]["content"], text);
    assert_eq!(done["data"]["conversation_id"], "conv_1");
    assert_eq!(done["data"]["client_message_id"], "c-1");
    assert_eq!(done["data"]["finish_reason"], "stop");
    let message_id = done["data"]["message_id"].as_str().unwrap();
    assert!(frames.iter().all(|f| f["data"]["message_id"] == message_id));
    // Only the first frame names the chat it answers, so a client can link the two early.
    assert_eq!(frames[0]["data"]["client_message_id"], "c-1");
    let tokens = frames.iter().filter(|f| f["type"] == "stream_token");
    assert!(tokens
        .skip(1)
        .all(|f| f["data"].get("client_message_id").is_none()));
    // The follow-up knows it is the second message of the conversation.
    client.chat("And Go?", "conv_1", "c-2").await;
    let text = joined(&client.reply().await, "stream_token");
    assert!(text.contains("message 2 "), "{text}");
}

#[tokio::test]
async fn conversation_id_is_assigned_when_missing() {
    let relay = Relay::start(offline_config()).await;
    let mut client = relay.connect("session_noconv").await;
    client
        .send_json(json!({"type": "chat_message", "data": {"message": "hi"}}))
        .await;
    let frames = client.reply().await;
    assert!(frames[0]["data"].get("client_message_id").is_none());
    let done = assert_complete(&frames);
    assert!(done["data"]["conversation_id"]
        .as_str()
        .unwrap()
        .starts_with("conv_"));
    assert!(done["data"].get("client_message_id").is_none());
}

#[tokio::test]
async fn upstream_sse_is_parsed_tolerantly_and_reasoning_is_kept_apart() {
    let up = Upstream::start().await;
    up.push(Reply::Sse(vec![
        Step::Send(": keep-alive\r\n\r\n".into()),
        Step::Send("\n".into()),
        reasoning("Let me "),
        reasoning("think."),
        // One event split across three writes, with CRLF line ends.
        Step::Send("data: {\"choices\":[{\"delta\":{\"con".into()),
        pause(20),
        Step::Send("tent\":\"Hel\"},\"finish_reason\":null}]}\r".into()),
        Step::Send("\n\r\n".into()),
        Step::Send(": keep-alive\n\n".into()),
        // Two events in one write, and a chunk with null choices.
        Step::Send(format!(
            "data: {}\n\ndata: {}\n\n",
            json!({"choices":[{"delta":{"content":"lo!"},"finish_reason":null}]}),
            json!({"choices":null})
        )),
        finish("stop"),
        upstream::usage(),
        done(),
    ]));
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut client = relay.connect("session_sse").await;
    client.chat("Say hello", "conv_sse", "c-1").await;
    let frames = client.reply().await;
    assert_eq!(joined(&frames, "reasoning_token"), "Let me think.");
    assert_offsets_from(&frames, 1);
    assert_eq!(joined(&frames, "stream_token"), "Hello!");
    let done = assert_complete(&frames);
    assert_eq!(done["data"]["content"], "Hello!");
    assert_eq!(done["data"]["finish_reason"], "stop");
    assert_eq!(done["data"]["usage"]["total_tokens"], 7);

    let requests = up.chat_requests();
    assert_eq!(requests.len(), 1);
    let body = &requests[0].body;
    assert_eq!(requests[0].authorization, format!("Bearer {API_KEY}"));
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["model"], "test-model");
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": "Say hello"}])
    );
}

#[tokio::test]
async fn follow_up_sends_history_without_reasoning() {
    let up = Upstream::start().await;
    up.push(Reply::Sse(vec![
        reasoning("secret thoughts"),
        content("Paris"),
        finish("stop"),
        done(),
    ]));
    up.push(answer(&["About 2 million."]));
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut client = relay.connect("session_hist").await;
    client.chat("Capital of France?", "conv_h", "c-1").await;
    assert_complete(&client.reply().await);
    client.chat("Its population?", "conv_h", "c-2").await;
    assert_complete(&client.reply().await);
    let requests = up.chat_requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].body["messages"],
        json!([
            {"role": "user", "content": "Capital of France?"},
            {"role": "assistant", "content": "Paris"},
            {"role": "user", "content": "Its population?"},
        ])
    );
    assert!(!requests[1].body.to_string().contains("secret thoughts"));
    // Another conversation of the same session starts fresh.
    client.chat("Hi", "conv_other", "c-3").await;
    assert_complete(&client.reply().await);
    assert_eq!(
        up.chat_requests()[2].body["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn history_is_bounded_oldest_first() {
    let up = Upstream::start().await;
    let mut config = upstream_config(&up.base_url);
    config.history.max_messages = 4;
    let relay = Relay::start(config).await;
    let mut client = relay.connect("session_bound").await;
    for i in 0..4 {
        up.push(answer(&[&format!("a{i}")]));
        client
            .chat(&format!("q{i}"), "conv_b", &format!("c{i}"))
            .await;
        assert_complete(&client.reply().await);
    }
    let last = &up.chat_requests()[3].body["messages"];
    let contents: Vec<&str> = last
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["q1", "a1", "q2", "a2", "q3"]);
}

#[tokio::test]
async fn done_without_finish_reason_succeeds_and_eof_without_either_fails() {
    let up = Upstream::start().await;
    up.push(Reply::Sse(vec![content("partial"), done()]));
    up.push(Reply::Sse(vec![content("cut off")]));
    let mut config = upstream_config(&up.base_url);
    config.upstream.max_attempts = 1;
    let relay = Relay::start(config).await;
    let mut client = relay.connect("session_eof").await;
    client.chat("one", "conv_1", "c-1").await;
    let done = assert_complete(&client.reply().await);
    assert_eq!(done["data"]["content"], "partial");
    client.chat("two", "conv_2", "c-2").await;
    let frames = client.reply().await;
    assert_eq!(joined(&frames, "stream_token"), "cut off");
    let error = assert_error(&frames, "upstream_unavailable");
    assert_eq!(error["data"]["retryable"], true);
}

#[tokio::test]
async fn non_streamed_json_reply_arrives_as_chat_message() {
    let up = Upstream::start().await;
    up.push(Reply::Json(json!({"choices": [{"message": {"role": "assistant", "content": "Whole answer"}, "finish_reason": "stop"}]}).to_string()));
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut client = relay.connect("session_json").await;
    client.chat("hi", "conv_j", "c-1").await;
    let frames = client.reply().await;
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["type"], "chat_message");
    assert_eq!(frames[0]["data"]["role"], "assistant");
    assert_eq!(frames[0]["data"]["content"], "Whole answer");
}

#[tokio::test]
async fn model_is_discovered_when_unset_with_a_fallback() {
    let up = Upstream::start().await;
    up.set_models(&["deepseek-v4-flash", "deepseek-v4-pro"]);
    let mut config = upstream_config(&up.base_url);
    config.upstream.model = None;
    let relay = Relay::start(config.clone()).await;
    let mut client = relay.connect("session_models").await;
    client.chat("hi", "conv_m", "c-1").await;
    assert_complete(&client.reply().await);
    assert_eq!(up.chat_requests()[0].body["model"], "deepseek-v4-flash");

    let down = Upstream::start().await; // no models configured: GET /models answers 500
    config.upstream.base_url = down.base_url.clone();
    let relay = Relay::start(config).await;
    let (_, _, health) = relay.get("/healthz").await;
    assert!(health.contains("\"model\":\"deepseek-chat\""), "{health}");
}

#[tokio::test]
async fn time_to_first_token_and_tokens_show_in_metrics() {
    let up = Upstream::start().await;
    up.push(Reply::Sse(vec![
        pause(30),
        content("a"),
        content("b"),
        finish("stop"),
        done(),
    ]));
    let relay = Relay::start(upstream_config(&up.base_url)).await;
    let mut client = relay.connect("session_metrics").await;
    client.chat("hi", "conv_x", "c-1").await;
    assert_complete(&client.reply().await);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (status, content_type, text) = relay.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(text.contains("chatwire_tokens_relayed_total 2"), "{text}");
    assert!(
        text.contains("chatwire_time_to_first_token_seconds_count 1"),
        "{text}"
    );
    assert!(
        text.contains("chatwire_time_to_first_token_seconds_bucket{le=\"+Inf\"} 1"),
        "{text}"
    );
    assert!(text.contains("chatwire_connections_open 1"), "{text}");
    assert!(text.contains("chatwire_streams_active 0"), "{text}");
}

#[tokio::test]
async fn history_is_kept_per_token_so_other_tokens_cannot_read_it() {
    let up = Upstream::start().await;
    up.push(answer(&["Alice's answer"]));
    up.push(answer(&["fresh"]));
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
    assert_complete(&alice.reply().await);
    // Bob guesses the same session and conversation ids.
    let mut bob = relay
        .connect_with("session_shared", Some("token-bob"), None)
        .await
        .unwrap();
    bob.chat("what did I say before?", "conv_1", "b-1").await;
    assert_complete(&bob.reply().await);
    let messages = &up.chat_requests()[1].body["messages"];
    assert_eq!(messages.as_array().unwrap().len(), 1, "{messages}");
    assert!(!messages.to_string().contains("secret plan"));
}
