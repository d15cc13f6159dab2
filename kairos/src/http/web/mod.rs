//! The web pages at the seed's paths: server-rendered HTML (askama templates compiled into the
//! binary), no JavaScript. The pages call the same use cases as the JSON API, so both give the
//! same answer for the same input.

pub mod admin;
pub mod auth_pages;
pub mod bookings;
pub mod catalogue;
pub mod cookies;
pub mod csrf;
pub mod forms;
pub mod home;
mod hours;
pub mod outbox;
mod prelude;
pub mod schedule;
pub mod service_forms;
mod service_sessions;
pub mod services;
pub mod view;
mod waitlist;
mod webhooks;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use axum_extra::extract::CookieJar;
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;

use super::{HttpState, error::ApiError};
use crate::app::AppError;
use cookies::{Nav, Viewer};

/// Every page, with the cookie middleware and the security headers pages carry.
pub fn router(state: HttpState) -> Router<HttpState> {
    let pages = Router::new()
        .merge(auth_pages::router())
        .merge(home::router())
        .merge(catalogue::router())
        .merge(bookings::router())
        .merge(services::router())
        .merge(service_sessions::router())
        .merge(schedule::router())
        .merge(admin::router())
        .merge(outbox::router())
        .merge(webhooks::router())
        .merge(waitlist::router())
        .merge(hours::router())
        .layer(axum::middleware::from_fn_with_state(
            state,
            cookies::refresh_expired_access,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(
                        "default-src 'self'; object-src 'none'; base-uri 'none'; \
                         frame-ancestors 'none'; form-action 'self'",
                    ),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("strict-origin-when-cross-origin"),
                ))
                // Pages show personal data: no cache keeps them.
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                )),
        );
    Router::new()
        .merge(pages)
        .route("/static/kairos.css", get(stylesheet))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}

const STYLESHEET: &str = include_str!("../../../static/kairos.css");

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        STYLESHEET,
    )
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum WebError {
    /// Nobody (or nobody still live) is signed in: go to the login page, then come back.
    SignIn { next: String },
    /// A form from another site, or without its CSRF token.
    CrossSite,
    /// An error page, with the header of whoever is looking.
    Page(Box<ErrorShown>),
}

/// An error to show, and who is looking (boxed: it is large, and rare).
#[derive(Debug)]
pub struct ErrorShown {
    pub nav: Nav,
    pub error: ApiError,
}

impl WebError {
    pub fn page(nav: Nav, error: ApiError) -> Self {
        WebError::Page(Box::new(ErrorShown { nav, error }))
    }
}

impl From<ApiError> for WebError {
    fn from(error: ApiError) -> Self {
        WebError::page(Nav::default(), error)
    }
}

impl From<AppError> for WebError {
    fn from(error: AppError) -> Self {
        ApiError::from(error).into()
    }
}

/// Turns an error into an error page that still shows who is signed in.
pub trait OrPage<T> {
    fn or_page(self, viewer: &Viewer) -> Result<T, WebError>;
}

impl<T, E: Into<ApiError>> OrPage<T> for Result<T, E> {
    fn or_page(self, viewer: &Viewer) -> Result<T, WebError> {
        self.map_err(|error| WebError::page(viewer.nav(), error.into()))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    nav: Nav,
    title: String,
    detail: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::SignIn { next } => {
                let target = format!(
                    "/login?next={}",
                    form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                (
                    cookies::without_login(CookieJar::new()),
                    Redirect::to(&target),
                )
                    .into_response()
            }
            WebError::CrossSite => {
                let page = ErrorPage {
                    nav: Nav::default(),
                    title: "This form cannot be accepted".to_owned(),
                    detail: "It came from another site, or it expired. Go back, reload the page \
                             and try again."
                        .to_owned(),
                };
                (StatusCode::FORBIDDEN, page).into_response()
            }
            WebError::Page(shown) => {
                let ErrorShown { nav, error } = *shown;
                let status = error.status();
                let (title, detail) = match &error {
                    ApiError::App(AppError::Forbidden) => (
                        "Not yours".to_owned(),
                        "This page belongs to someone else.".to_owned(),
                    ),
                    ApiError::App(AppError::NotFound(what)) => (
                        "Not found".to_owned(),
                        format!("There is no such {what}, or it is not one you may see."),
                    ),
                    _ if status.is_server_error() => {
                        // Log the cause the way the API does; show only that it happened.
                        error.log();
                        (
                            "Something went wrong".to_owned(),
                            "It has been logged. Try again in a moment.".to_owned(),
                        )
                    }
                    other => (
                        status.canonical_reason().unwrap_or("Error").to_owned(),
                        super::problem::Problem::of(other).detail,
                    ),
                };
                (status, ErrorPage { nav, title, detail }).into_response()
            }
        }
    }
}

/// After a form that changed something: see the result (303, so a reload does not resend).
pub fn see(path: &str) -> Response {
    Redirect::to(path).into_response()
}
