//! The accept loop: every TCP connection the relay takes, under the connection limits.
//!
//! axum's `serve` has no setting for these, so the relay drives hyper's HTTP/1 server itself
//! (axum's router is the service, with upgrades on for the WebSocket):
//! - a connection from an address already at `RELAY_MAX_CONNECTIONS_PER_IP` is closed at
//!   once, before a byte of it is read (`per_ip.rs`);
//! - every request head, the WebSocket handshake included, must be complete within
//!   `RELAY_HANDSHAKE_TIMEOUT_MS` of the connection being ready for it (accepted, or done with
//!   the previous request): a handshake whose headers trickle in, or a connection that sends
//!   nothing, is closed (hyper's header-read timeout);
//! - a write that waits `RELAY_WRITE_TIMEOUT_MS` for a peer that reads nothing fails
//!   (`guarded.rs`).
//!
//! HTTP/1.1 only: browsers reach the relay's WebSocket over HTTP/1.1 (TLS and HTTP/2 end at
//! a proxy in front); HTTP/2 without TLS ("prior knowledge"), which axum's `serve` also
//! spoke, is not served.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::guarded::Guarded;
use super::per_ip::PerIp;
use super::Limits;
use crate::metrics::{LimitHit, Metrics};

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, lets each
/// HTTP connection finish its request, and returns when they have closed. Upgraded
/// WebSockets are not waited for here (the relay's `run` drains them).
pub async fn serve<F>(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    metrics: Arc<Metrics>,
    shutdown: F,
) where
    F: Future<Output = ()> + Send + 'static,
{
    let per_ip = limits.max_connections_per_ip.map(PerIp::new);
    let connections = TaskTracker::new();
    let closing = CancellationToken::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                accept_failed(error).await;
                continue;
            }
        };
        let slot = match &per_ip {
            Some(table) => match table.try_open(peer.ip()) {
                Some(slot) => Some(slot),
                None => {
                    // At debug level: a flood of these must not flood the log as well.
                    tracing::debug!(ip = %peer.ip(), "connection refused: RELAY_MAX_CONNECTIONS_PER_IP reached");
                    metrics.limit_hit(LimitHit::ConnectionsPerIp);
                    continue;
                }
            },
            None => None,
        };
        // Nagle's algorithm would hold a token back until the browser's delayed ACK: off.
        let _ = tcp.set_nodelay(true);
        let io = TokioIo::new(Guarded::new(tcp, limits.write_timeout, slot));
        connections.spawn(serve_connection(
            io,
            app.clone(),
            limits.handshake_timeout,
            closing.clone(),
            Arc::clone(&metrics),
        ));
    }
    drop(listener);
    closing.cancel();
    connections.close();
    connections.wait().await;
}

async fn serve_connection(
    io: TokioIo<Guarded<tokio::net::TcpStream>>,
    app: Router,
    handshake_timeout: Duration,
    closing: CancellationToken,
    metrics: Arc<Metrics>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(handshake_timeout);
    let connection = builder
        .serve_connection(io, TowerToHyperService::new(app))
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = closing.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        if error.is_timeout() {
            tracing::debug!(
                ?handshake_timeout,
                "closed a connection whose request head did not arrive in time"
            );
            metrics.limit_hit(LimitHit::HandshakeTimeout);
        } else {
            tracing::trace!(%error, "connection ended with an error");
        }
    }
}

/// After a failed `accept`: a connection that died in the queue is nothing; running out of
/// descriptors (EMFILE) is, and waiting a moment lets closing connections free some.
async fn accept_failed(error: io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
