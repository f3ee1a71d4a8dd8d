//! Plain HTTP: the demo (or the "not built" page), `/pkg/` with the wasm MIME type,
//! `/healthz`, and the start-up contract of `run` on port 0.

use std::path::PathBuf;

use crate::support::*;

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("chatwire-relay-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn missing_demo_gives_a_helpful_page_not_an_error() {
    let relay = Relay::start(offline_config()).await;
    let (status, content_type, body) = relay.get("/").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(body.contains("demo is not built"), "{body}");
    assert!(body.contains("npm run build"), "{body}");
    let (status, _, _) = relay.get("/some/asset.js").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn built_demo_and_pkg_are_served() {
    let dist = temp_dir("dist");
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>chatwire demo</title>",
    )
    .unwrap();
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(dist.join("assets/app.js"), "console.log('demo')").unwrap();
    let pkg = temp_dir("pkg");
    std::fs::write(pkg.join("chatwire_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(pkg.join("chatwire.js"), "export default 1;").unwrap();
    let mut config = offline_config();
    config.static_dir = dist.clone();
    config.pkg_dir = pkg.clone();
    let relay = Relay::start(config).await;

    let (status, content_type, body) = relay.get("/").await;
    assert_eq!((status, content_type.starts_with("text/html")), (200, true));
    assert!(body.contains("chatwire demo"));
    let (status, content_type, _) = relay.get("/assets/app.js").await;
    assert_eq!(status, 200);
    assert!(content_type.contains("javascript"), "{content_type}");
    // Client-side routes fall back to index.html.
    let (status, _, body) = relay.get("/chat/room-1").await;
    assert_eq!(status, 200);
    assert!(body.contains("chatwire demo"));
    let (status, content_type, _) = relay.get("/pkg/chatwire_bg.wasm").await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/wasm");
    let (status, content_type, _) = relay.get("/pkg/chatwire.js").await;
    assert_eq!(status, 200);
    assert!(content_type.contains("javascript"), "{content_type}");
    let (status, _, _) = relay.get("/pkg/missing.js").await;
    assert_eq!(status, 404);
    let _ = std::fs::remove_dir_all(dist);
    let _ = std::fs::remove_dir_all(pkg);
}

#[tokio::test]
async fn healthz_reports_the_provider() {
    let relay = Relay::start(offline_config()).await;
    let (status, content_type, body) = relay.get("/healthz").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("application/json"));
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["provider"], "offline");
}

#[tokio::test]
async fn binary_serves_offline_chat_with_no_env_and_prints_its_url() {
    // The real binary, as a new user runs it: no API key, port 0, no .env.
    let dir = temp_dir("bin");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_chatwire-relay"))
        .current_dir(&dir)
        .env_clear()
        .env("RELAY_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    let mut offline_notice = false;
    while let Ok(Some(line)) = tokio::time::timeout(FRAME_WAIT, lines.next_line())
        .await
        .unwrap()
    {
        offline_notice |= line.contains("offline");
        if let Some(at) = line.find("chatwire relay listening on http://") {
            url = Some(
                line[at + "chatwire relay listening on ".len()..]
                    .trim()
                    .to_owned(),
            );
            break;
        }
    }
    let url = url.expect("no listening line");
    assert!(
        offline_notice,
        "start-up log does not mention the offline provider"
    );
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    assert_ne!(addr.port(), 0);
    let (status, _, body) = http_get(addr, "/healthz").await;
    assert_eq!(status, 200, "{body}");
    let ws_url = format!("ws://{addr}/ws/chat/session_bin/?token=dev");
    let (ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    let mut client = Client { ws };
    client.chat("hello binary", "conv_1", "c-1").await;
    let frames = client.reply().await;
    assert!(assert_complete(&frames)["data"]["content"]
        .as_str()
        .unwrap()
        .contains("hello binary"));
    // SIGTERM stops it cleanly.
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(FRAME_WAIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn binary_refuses_bad_values_naming_the_variable() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_chatwire-relay"))
        .env_clear()
        .env("RELAY_ADDR", "0.0.0.0:0")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("RELAY_TOKENS"));
    // The same check applies to values from a `.env` file in the working directory.
    let dir = temp_dir("dotenv");
    std::fs::write(
        dir.join(".env"),
        "# relay settings\nRELAY_MAX_UPSTREAM=lots\n",
    )
    .unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_chatwire-relay"))
        .current_dir(&dir)
        .env_clear()
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("RELAY_MAX_UPSTREAM") && stderr.contains("lots"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
