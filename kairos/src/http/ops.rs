//! Operating endpoints outside `/api`: liveness, readiness and metrics.

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderValue, header},
    response::IntoResponse,
    routing::get,
};
use serde_json::json;

use super::{HttpState, error::ApiError};

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Alive: the process answers. Says nothing about the database.
async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready: the database answers (for SQLite, the writer can commit).
async fn readyz(State(state): State<HttpState>) -> Result<impl IntoResponse, ApiError> {
    let database = state.app.ready().await?;
    Ok(Json(json!({ "status": "ready", "database": database })))
}

async fn metrics(State(state): State<HttpState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        state.metrics.render(
            state.app.database_connections(),
            state.app.outbox_counters(),
        ),
    )
}
