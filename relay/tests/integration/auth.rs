//! Who may connect: tokens (close 4401), dev mode, Origins (HTTP 403), session ids (1008).

use chatwire_relay::auth::OriginPolicy;
use tokio_tungstenite::tungstenite::Error as WsError;

use crate::support::*;

#[tokio::test]
async fn wrong_or_missing_token_is_closed_with_4401_after_accept() {
    let relay = Relay::start(with_tokens(offline_config(), &["s3cret-a", "s3cret-b"])).await;
    for token in [Some("wrong"), Some("s3cret-"), None, Some("")] {
        let mut client = relay
            .connect_with("session_a", token, None)
            .await
            .expect("upgrade should succeed");
        assert_eq!(
            client.closed().await,
            Closed::Code(4401, "unauthorized".into()),
            "token {token:?}"
        );
    }
    for token in ["s3cret-a", "s3cret-b"] {
        let mut client = relay
            .connect_with("session_a", Some(token), None)
            .await
            .unwrap();
        client.send_text(r#"{"type":"ping"}"#).await;
        assert_eq!(client.next_json().await["type"], "pong");
    }
}

#[tokio::test]
async fn dev_mode_accepts_any_non_empty_token_only() {
    let relay = Relay::start(offline_config()).await;
    let mut client = relay
        .connect_with("session_dev", Some("anything"), None)
        .await
        .unwrap();
    client.send_text(r#"{"type":"ping"}"#).await;
    assert_eq!(client.next_json().await["type"], "pong");
    let mut client = relay.connect_with("session_dev", None, None).await.unwrap();
    assert!(matches!(client.closed().await, Closed::Code(4401, _)));
}

#[tokio::test]
async fn foreign_origin_gets_403_before_the_upgrade() {
    let mut config = offline_config();
    config.origins = OriginPolicy::parse("https://chat.example.com").unwrap();
    let relay = Relay::start(config).await;
    match relay
        .connect_with("session_o", Some("dev"), Some("https://evil.example"))
        .await
    {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!(
            "expected HTTP 403, got {:?}",
            other.map(|_| "an open socket")
        ),
    }
    assert!(relay
        .connect_with("session_o", Some("dev"), Some("https://chat.example.com"))
        .await
        .is_ok());

    // The default policy: loopback pages and the relay's own host only.
    let relay = Relay::start(offline_config()).await;
    assert!(matches!(
        relay.connect_with("session_o", Some("dev"), Some("https://evil.example")).await,
        Err(WsError::Http(r)) if r.status() == 403
    ));
    assert!(relay
        .connect_with("session_o", Some("dev"), Some("http://localhost:5173"))
        .await
        .is_ok());
}

#[tokio::test]
async fn invalid_session_id_is_closed_with_1008() {
    let relay = Relay::start(offline_config()).await;
    let long = "s".repeat(300);
    let mut client = relay.connect_with(&long, Some("dev"), None).await.unwrap();
    assert!(matches!(client.closed().await, Closed::Code(1008, _)));
}
