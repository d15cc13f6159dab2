//! Building and running the server: `Application::build` opens the database, binds the listener
//! and exposes the port, so tests run the real server on port 0.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::{Context, bail};
use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use tokio::net::TcpListener;
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
    api,
    auth::{
        accounts::ensure_admin,
        password::PasswordHasher,
        throttle::RateLimits,
        tokens::{TokenKeys, signing_secret},
    },
    config::Settings,
    error::ApiError,
    maintenance,
    metrics::{self, Metrics},
    middleware, ops,
    state::AppState,
    store::{self, Location},
    web,
};

/// Request bodies larger than this are refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("creating the data dir {}", settings.data_dir.display()))?;
        let location =
            Location::from_settings(settings.database_url.as_deref(), &settings.data_dir)?;
        let store = store::open(&location, settings.db_pool_size).await?;
        let passwords = PasswordHasher::new(settings.password_hash_concurrency).await?;
        match (&settings.admin_email, &settings.admin_password) {
            (Some(email), Some(password)) => {
                ensure_admin(
                    store.as_ref(),
                    &passwords,
                    email,
                    password.expose().to_owned(),
                )
                .await?;
            }
            (Some(_), None) => bail!("KAIROS_ADMIN_EMAIL is set but KAIROS_ADMIN_PASSWORD is not"),
            _ => {}
        }
        let secret = signing_secret(settings.jwt_secret.as_ref(), &settings.data_dir)?;
        let listener = TcpListener::bind(&settings.addr)
            .await
            .with_context(|| format!("binding {}", settings.addr))?;
        let public_url = match &settings.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", listener.local_addr()?),
        };
        let state = AppState {
            store,
            tokens: Arc::new(TokenKeys::new(&secret)),
            passwords,
            rate_limits: Arc::new(RateLimits::new(&settings)),
            metrics: Arc::new(Metrics::default()),
            settings: Arc::new(settings),
            public_url: public_url.into(),
        };
        let router = router(state.clone());
        Ok(Self {
            listener,
            router,
            state,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM or ctrl-c, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let maintenance = tokio::spawn(maintenance::run(self.state.clone()));
        let header_read_timeout = self.state.settings.header_read_timeout;
        crate::serve::serve(self.listener, self.router, header_read_timeout, shutdown).await;
        maintenance.abort();
        Ok(())
    }
}

/// The whole HTTP surface with its middleware.
pub fn router(state: AppState) -> Router {
    let (api, mut openapi) = api::routes().split_for_parts();
    api::docs::finish(&mut openapi);
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
                    ApiError::Internal(anyhow::anyhow!("a handler panicked")).into_response()
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
    ApiError::NotFound("route").into_response()
}

/// axum adds the `Allow` header to this answer.
async fn method_not_allowed() -> Response {
    ApiError::MethodNotAllowed.into_response()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down; finishing requests in flight");
}
