//! The built demo at `/` (with `index.html` as the fallback for client-side routes) and the
//! wasm-pack output at `/pkg/`. When the demo is not built, `/` explains how to build it
//! instead of failing.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::state::AppState;

/// Serves `/pkg/…` from the package directory (`.wasm` as `application/wasm`).
pub fn pkg_service(state: &AppState) -> ServeDir {
    ServeDir::new(&state.config.pkg_dir)
}

/// Serves the demo, or the "not built yet" page.
pub async fn demo(State(state): State<AppState>, request: Request) -> Response {
    let dir = &state.config.static_dir;
    let index = dir.join("index.html");
    if tokio::fs::metadata(&index).await.is_ok_and(|m| m.is_file()) {
        let service = ServeDir::new(dir).fallback(ServeFile::new(index));
        return match service.oneshot(request).await {
            Ok(response) => response.map(Body::new),
            Err(never) => match never {},
        };
    }
    let status = if request.uri().path() == "/" {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let page = format!(
        "<!doctype html>\n<meta charset=\"utf-8\">\n<title>chatwire relay</title>\n\
         <h1>chatwire relay is running</h1>\n\
         <p>The demo is not built: <code>{}</code> has no <code>index.html</code>.</p>\n\
         <p>Build the browser package and the demo, then reload:</p>\n\
         <pre>wasm-pack build --target web      # writes pkg/\n\
         cd www &amp;&amp; npm install &amp;&amp; npm run build   # writes www/dist/</pre>\n\
         <p>Or point <code>RELAY_STATIC_DIR</code> at a built demo. The chat socket is at \
         <code>/ws/chat/{{session_id}}/?token=…</code>; <a href=\"/healthz\">/healthz</a> and \
         <a href=\"/metrics\">/metrics</a> work now.</p>\n",
        html_escape(&dir.display().to_string())
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
