//! Operational endpoints: `GET /healthz` (liveness and what the relay talks to) and
//! `GET /metrics` (Prometheus text).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::state::AppState;

/// `200 {"status":"ok",…}`, or `503` with `shutting_down` once shutdown began.
pub async fn healthz(State(state): State<AppState>) -> Response {
    let shutting_down = state.shutdown.is_cancelled();
    let body = Json(json!({
        "status": if shutting_down { "shutting_down" } else { "ok" },
        "provider": state.provider.kind(),
        "model": state.provider.model(),
        "connections": state.metrics.connections_open(),
        "active_streams": state.metrics.streams_active(),
    }));
    let status = if shutting_down {
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
