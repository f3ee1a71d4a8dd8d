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
    let redis = match &state.config.redis {
        None => None,
        Some(redis) => Some(matches!(
            tokio::time::timeout(REDIS_PING_TIMEOUT, redis.ping()).await,
            Ok(Ok(()))
        )),
    };
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
    }));
    let status = if shutting_down || redis_down {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (status, body).into_response()
}

/// The Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
