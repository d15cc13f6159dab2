//! Guards every request passes through: a body-size check before anything is read, a limit on
//! how long the server may take to answer, and CORS for the origins an operator allows.

use std::time::Duration;

use axum::{
    extract::{Request, State},
    http::{HeaderName, HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::{BODY_LIMIT, HttpState, error::ApiError};

/// A body declared larger than the limit is refused before a byte of it is read (a body sent in
/// chunks is cut off at the limit by the extractors instead).
pub async fn refuse_oversized_bodies(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT as u64) {
        let mut response = ApiError::PayloadTooLarge.into_response();
        // The unread body is still on the wire; this connection cannot carry another request.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    next.run(request).await
}

/// An answer that takes longer than the limit becomes a 503, so a stuck database cannot pile up
/// requests without end. (A write already handed to the database may still complete; the client
/// was not told it did, so nothing acknowledged is lost.)
pub async fn limit_time(State(state): State<HttpState>, request: Request, next: Next) -> Response {
    tokio::time::timeout(state.settings.request_time_limit, next.run(request))
        .await
        .unwrap_or_else(|_| ApiError::TimedOut.into_response())
}

/// CORS for the listed origins only: a listed `Origin` is echoed back (with `Vary: Origin`),
/// any other gets no CORS headers, and credentials are never allowed (the API takes bearer
/// tokens, not cookies). `None` when no origin is listed: CORS stays off.
pub fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([
                header::LOCATION,
                header::RETRY_AFTER,
                HeaderName::from_static("x-request-id"),
            ])
            .max_age(Duration::from_secs(600)),
    )
}
