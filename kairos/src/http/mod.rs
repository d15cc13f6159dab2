//! The HTTP adapters over the use cases: the JSON API under `/api` ([`api`]), the web pages at
//! the seeds' paths ([`web`]), and what they share: the router with its middleware, extractors,
//! rate limits, problem JSON and the connection loop.

pub mod api;
pub mod client_ip;
pub mod error;
pub mod extract;
pub mod json;
pub mod metrics;
pub mod middleware;
pub mod ops;
pub mod problem;
pub mod rate_limits;
pub mod serve;
pub mod web;

use std::sync::Arc;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::RequestBodyDeadlineLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use utoipa_swagger_ui::SwaggerUi;

use crate::{
    app::{App, AppError},
    config::Settings,
};
use error::ApiError;
use metrics::Metrics;
use rate_limits::RateLimits;
use web::csrf::CsrfKeys;

/// Request bodies larger than this are refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What every handler can reach. Cloned for each middleware and handler of every request, so
/// it is one shared pointer (a clone of each part was a dozen atomic counts, measured at 1.5%
/// of a read's time).
#[derive(Clone)]
pub struct HttpState(Arc<Shared>);

pub struct Shared {
    pub app: App,
    pub rate_limits: RateLimits,
    pub metrics: Metrics,
    pub settings: Settings,
    pub csrf: CsrfKeys,
}

impl HttpState {
    pub fn new(app: App, settings: Settings, signing_secret: &[u8]) -> Self {
        Self(Arc::new(Shared {
            app,
            rate_limits: RateLimits::new(&settings),
            metrics: Metrics::default(),
            settings,
            csrf: CsrfKeys::new(signing_secret),
        }))
    }
}

impl std::ops::Deref for HttpState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The whole HTTP surface with its middleware.
pub fn router(state: HttpState) -> Router {
    let (api, openapi) = api::routes();
    // Answers under /api carry tokens or personal data: no cache may keep them.
    let api = api.layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ));
    Router::new()
        .merge(api)
        .merge(SwaggerUi::new("/docs").url("/api/openapi.json", openapi))
        .merge(ops::router())
        .merge(web::router(state.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(crate::telemetry::request_span)
                        .on_request(())
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::custom(|_| {
                    ApiError::from(AppError::Internal(anyhow::anyhow!("a handler panicked")))
                        .into_response()
                }))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    metrics::track,
                ))
                .option_layer(middleware::cors(&state.settings.cors_origins))
                .layer(axum::middleware::from_fn(
                    middleware::refuse_oversized_bodies,
                ))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    middleware::limit_time,
                ))
                .layer(RequestBodyDeadlineLayer::new(
                    state.settings.body_read_timeout,
                ))
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .with_state(state)
}

async fn not_found() -> Response {
    ApiError::from(AppError::NotFound("route")).into_response()
}

/// axum adds the `Allow` header to this answer.
async fn method_not_allowed() -> Response {
    ApiError::MethodNotAllowed.into_response()
}
