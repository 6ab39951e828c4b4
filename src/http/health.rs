//! `GET /health`: is the process alive and can it reach its database.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::app::AppState;

/// Answers `{"status":"ok","database":"ok"}`, or 503 when the database cannot be reached.
pub async fn health(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => Json(json!({ "status": "ok", "database": "ok" })).into_response(),
        Err(err) => {
            tracing::warn!(%err, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "unreachable" })),
            )
                .into_response()
        }
    }
}
