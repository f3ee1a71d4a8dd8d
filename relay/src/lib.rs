//! chatwire relay: a small, careful server between browsers speaking the chatwire WebSocket
//! protocol (`PROTOCOL.md`) and an OpenAI-compatible streaming API (DeepSeek by default).
//!
//! [`app`] builds the router; [`run`] serves it on a listener until a shutdown signal, then
//! drains: sockets get `server_restarting`, in-flight replies may finish within the grace
//! period, and sockets close with 1012. With Redis (`RELAY_REDIS_URL`) sockets close with 1012
//! at once (clients resume through another instance) while the replies run on into Redis.
//! `main.rs` only parses configuration, sets up tracing, binds and calls [`run`].

pub mod access_log;
pub mod auth;
pub mod backoff;
pub mod config;
pub mod connection;
pub mod error;
pub mod generation;
pub mod history;
pub mod ids;
pub mod limits;
pub mod metrics;
pub mod ops;
pub mod protocol;
pub mod provider;
pub mod redact;
pub mod redis_conn;
pub mod registry;
pub mod state;
pub mod web;
pub mod ws;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

pub use config::{Cli, Config, ConfigError};
pub use state::AppState;

/// How long [`run`] waits for sockets beyond the grace period before returning anyway.
const CLOSE_SLACK: Duration = Duration::from_secs(3);
/// With Redis, how long [`run`] waits for the last frames to be written there.
const REDIS_FLUSH: Duration = Duration::from_secs(2);

/// The relay's routes: the chat socket, health, metrics, `/pkg/` and the demo.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/ws/chat/{session_id}/", get(ws::upgrade))
        .route("/ws/chat/{session_id}", get(ws::upgrade))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .nest_service("/pkg", web::pkg_service(&state))
        .fallback(web::demo)
        .layer(axum::middleware::from_fn(access_log::log_requests))
        .with_state(state)
}

/// Serves [`app`] on `listener` until `shutdown` resolves, then shuts down gracefully.
///
/// Logs `chatwire relay listening on http://ADDR` with the bound address (so port 0 works).
pub async fn run<F>(listener: TcpListener, state: AppState, shutdown: F) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let addr = listener.local_addr()?;
    let config = &state.config;
    if config.dev_mode() && !addr.ip().is_loopback() {
        return Err(std::io::Error::other(
            config::ConfigError::PublicWithoutTokens(addr),
        ));
    }
    match state.provider.kind() {
        "offline" => {
            tracing::info!("no DEEPSEEK_API_KEY: replies come from the offline demo provider")
        }
        _ => {
            tracing::info!(base_url = %config.upstream.base_url, model = %state.provider.model(), "streaming replies from an OpenAI-compatible API")
        }
    }
    if config.dev_mode() {
        tracing::info!(
            "no RELAY_TOKENS: dev mode, any non-empty token is accepted (loopback only)"
        );
    }
    tracing::info!("chatwire relay listening on http://{addr}");
    let token = state.shutdown.clone();
    let grace = config.shutdown_grace;
    limits::serve::serve(
        listener,
        app(state.clone()),
        &config.limits,
        Arc::clone(&state.metrics),
        async move {
            shutdown.await;
            tracing::info!(
                ?grace,
                "shutting down: no new connections; draining sockets"
            );
            token.cancel();
        },
    )
    .await;
    state.sockets.close();
    if tokio::time::timeout(grace + CLOSE_SLACK, state.sockets.wait())
        .await
        .is_err()
    {
        tracing::warn!("some sockets did not close in time");
    }
    if state.registry.is_shared() {
        // With Redis the sockets closed at once; the answers run on to completion within
        // the grace, their frames going to Redis, where another instance resumes them.
        let deadline = tokio::time::Instant::now() + grace;
        while state.metrics.streams_active() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Replies whose sockets dropped cannot be resumed from a stopped relay: end them now
    // rather than at the end of their resume grace.
    state.registry.stop_all(error::ErrorCode::ServerRestarting);
    if state.registry.is_shared() {
        // Let the stopped ones write their terminal frame, then everything reach Redis.
        let deadline = tokio::time::Instant::now() + REDIS_FLUSH;
        while state.metrics.streams_active() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        state.registry.flush_shared(REDIS_FLUSH).await;
    }
    tracing::info!("chatwire relay stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
