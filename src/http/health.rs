//! `GET /health` (is the process alive and can it reach its database), `GET /ready` (should
//! a load balancer send traffic here) and `GET /metrics` (Prometheus).

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use migration::{Migrator, MigratorTrait};
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

/// 200 when the database answers and every migration is applied; 503 otherwise, and from the
/// moment shutdown begins (so a load balancer drains this replica first). Each read replica is
/// listed with its status and lag.
pub async fn ready(State(state): State<AppState>) -> Response {
    let unready = |reason: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "reason": reason })),
        )
            .into_response()
    };
    if state.ops.shutdown.is_triggered() {
        return unready("shutting down");
    }
    if !state.ops.db_health.check().await {
        return unready("database unreachable");
    }
    let pending = tokio::time::timeout(
        Duration::from_secs(2),
        Migrator::get_pending_migrations(&state.db),
    )
    .await;
    match pending {
        Ok(Ok(pending)) if pending.is_empty() => {
            let mut body = json!({ "status": "ready", "database": "ok", "migrations": "applied" });
            // Replicas are reported, never a reason to be unready: the primary serves their
            // reads while they are away.
            if state.reads.has_replicas() {
                body["replicas"] = json!(state.reads.report());
            }
            Json(body).into_response()
        }
        Ok(Ok(_)) => unready("migrations pending"),
        _ => unready("database unreachable"),
    }
}

/// The Prometheus text exposition of this replica's metrics.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.ops.render_metrics(),
    )
        .into_response()
}
