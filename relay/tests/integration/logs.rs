//! Logs never contain the client token or the API key, even at TRACE level and even when
//! the upstream echoes the key back in an error body.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::support::*;
use crate::upstream::*;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

const CLIENT_TOKEN: &str = "client-token-XYZZY-42";

#[tokio::test]
async fn token_and_api_key_never_reach_the_logs() {
    let buffer = Buffer::default();
    // Everything at TRACE, except the test's own WebSocket client, which logs its request
    // line (with the token) by design; that is the client's log, not the relay's.
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new("trace,tungstenite::handshake::client=off"))
        .with_writer(buffer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let up = Upstream::start().await;
    let echo = format!(
        r#"{{"error":{{"message":"Authentication Fails, Your api key: {API_KEY} is invalid"}}}}"#
    );
    up.push(status(401, &echo));
    up.push(Reply::Sse(vec![Step::Send(format!(
        "data: {{\"error\":{{\"message\":\"key {API_KEY}\"}}}}\n\n"
    ))]));
    up.push(answer(&["fine"]));
    let mut config = with_tokens(upstream_config(&up.base_url), &[CLIENT_TOKEN]);
    config.upstream.max_attempts = 1;
    let relay = Relay::start(config).await;

    let mut client = relay
        .connect_with("session_logs", Some(CLIENT_TOKEN), None)
        .await
        .unwrap();
    client.chat("hi", "conv_1", "c-1").await;
    let error = assert_error(&client.reply().await, "upstream_auth");
    assert!(!error.to_string().contains(API_KEY));
    client.chat("hi", "conv_2", "c-2").await;
    assert_error(&client.reply().await, "upstream_unavailable");
    client.chat("hi", "conv_3", "c-3").await;
    assert_complete(&client.reply().await);
    let mut refused = relay
        .connect_with("session_logs", Some("wrong-token-ABC"), None)
        .await
        .unwrap();
    assert!(matches!(refused.closed().await, Closed::Code(4401, _)));
    let _ = relay.get(&format!("/healthz?token={CLIENT_TOKEN}")).await;

    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("chatwire relay listening on http://"),
        "{logs}"
    );
    assert!(
        logs.contains("upstream answered with an error"),
        "the upstream body was not logged"
    );
    assert!(logs.contains("[redacted]"), "expected redaction markers");
    assert!(!logs.contains(API_KEY), "API key leaked into logs");
    assert!(
        !logs.contains(CLIENT_TOKEN),
        "client token leaked into logs"
    );
    assert!(
        !logs.contains("wrong-token-ABC"),
        "a presented token leaked into logs"
    );
}
