//! The one error type handlers return: what the use cases say ([`AppError`]) and what only HTTP
//! can go wrong with (a body that is not JSON, a method a route does not take, a client over its
//! rate limit). [`problem`](super::problem) says how each reads as RFC 9457 problem JSON.
//!
//! Causes of 5xx answers are logged (inside the request's span, so with its request id) and
//! never sent.

use std::time::Duration;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::problem::{Problem, problem_json, retry_after_secs};
use crate::{
    app::{AppError, Unauthenticated},
    domain::refusal::RefusalKind,
};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// What a use case answered.
    #[error(transparent)]
    App(#[from] AppError),
    /// Malformed JSON, a bad path id or query: the request cannot be read at all.
    #[error("bad request: {detail}")]
    BadRequest { code: &'static str, detail: String },
    /// A refresh token was asked for and none came.
    #[error("no refresh token")]
    NoRefreshToken,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("payload too large")]
    PayloadTooLarge,
    /// The client took too long to send its body.
    #[error("request timeout")]
    RequestTimeout,
    /// The server took too long to answer (the database is slow or stuck).
    #[error("timed out")]
    TimedOut,
    /// This client address is over a route's rate limit.
    #[error("too many requests")]
    TooManyRequests { retry_after: Duration },
}

impl ApiError {
    /// No bearer token, or one that cannot be a token.
    pub fn invalid_token() -> Self {
        AppError::Unauthenticated(Unauthenticated::InvalidToken).into()
    }

    pub fn field(field: &str, message: &str) -> Self {
        AppError::field(field, message).into()
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::App(err) => app_status(err),
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::NoRefreshToken => StatusCode::UNAUTHORIZED,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::TimedOut => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// Writes the cause of a server-side failure to the log.
    pub fn log(&self) {
        match self {
            Self::App(AppError::Internal(err)) => tracing::error!(error = ?err, "request failed"),
            Self::App(AppError::Unavailable(err)) => {
                tracing::warn!(error = %err, "database unavailable");
            }
            _ => {}
        }
    }

    /// How long the client should wait before trying again, if that is the point.
    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after }
            | Self::App(AppError::Throttled { retry_after }) => {
                Some(retry_after_secs(*retry_after))
            }
            Self::App(AppError::Unavailable(_)) | Self::TimedOut => Some(1),
            _ => None,
        }
    }
}

fn app_status(err: &AppError) -> StatusCode {
    match err {
        AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::Refused(refusal) => match refusal.kind() {
            RefusalKind::Conflict => StatusCode::CONFLICT,
            RefusalKind::NotAllowed => StatusCode::FORBIDDEN,
            RefusalKind::BreaksRule => StatusCode::UNPROCESSABLE_ENTITY,
        },
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let problem = Problem::of(&self);
        let www_authenticate = match (problem.status, problem.code) {
            (401, "invalid_token") => Some(r#"Bearer error="invalid_token""#),
            (401, _) => Some("Bearer"),
            _ => None,
        };
        let mut response = (self.status(), problem_json(&problem)).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(value) = www_authenticate {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(value));
        }
        response
    }
}
