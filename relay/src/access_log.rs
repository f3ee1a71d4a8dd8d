//! Request logging that never records query strings (they carry the client token).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use tokio::time::Instant;

/// Logs method, path, status and latency of each HTTP request at debug level.
pub async fn log_requests(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = crate::redact::path_only(request.uri()).to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::debug!(%method, %path, status = response.status().as_u16(), elapsed = ?started.elapsed(), "http request");
    response
}
