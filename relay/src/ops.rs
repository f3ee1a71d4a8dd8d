//! Operational endpoints: `GET /healthz` (liveness and what the relay talks to) and
//! `GET /metrics` (Prometheus text).

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::state::AppState;

/// Longest `/healthz` waits for Redis to answer `PING`.
const REDIS_PING_TIMEOUT: Duration = Duration::from_millis(1_000);

/// `200 {"status":"ok",…}`; `503` with `shutting_down` once shutdown began, or with
/// `redis_unavailable` while the configured Redis does not answer.
pub async fn healthz(State(state): State<AppState>) -> Response {
    let shutting_down = state.shutdown.is_cancelled();
    let redis = redis_up(&state).await;
    let redis_down = redis == Some(false);
    let status = if shutting_down {
        "shutting_down"
    } else if redis_down {
        "redis_unavailable"
    } else {
        "ok"
    };
    let body = Json(json!({
        "status": status,
        "store": match redis { None => "memory", Some(true) => "redis", Some(false) => "redis_unavailable" },
        "provider": state.provider.kind(),
        "model": state.provider.model(),
        "connections": state.metrics.connections_open(),
        "active_streams": state.metrics.streams_active(),
        // Generations this instance holds: running, or finished and kept for a resume.
        "generations_kept": state.registry.kept(),
    }));
    let status = if shutting_down || redis_down {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (status, body).into_response()
}

/// Whether the configured Redis answers `PING` now; `None` without Redis.
async fn redis_up(state: &AppState) -> Option<bool> {
    let redis = state.config.redis.as_ref()?;
    Some(matches!(
        tokio::time::timeout(REDIS_PING_TIMEOUT, redis.ping()).await,
        Ok(Ok(()))
    ))
}

/// The Prometheus text exposition (with Redis, `chatwire_redis_up` too).
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = state.metrics.render();
    if let Some(up) = redis_up(&state).await {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!(
            "# HELP chatwire_redis_up Whether Redis (RELAY_REDIS_URL) answered PING.\n\
             # TYPE chatwire_redis_up gauge\nchatwire_redis_up {}\n",
            u8::from(up)
        ));
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
