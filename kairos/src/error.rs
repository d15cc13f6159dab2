//! The one error type handlers return, and how it becomes RFC 9457 problem JSON.
//!
//! Every refusal has a stable snake_case `code` a client can branch on. Causes of 5xx answers are
//! logged (inside the request's span, so with its request id) and never sent.

use std::time::Duration;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    domain::{
        FieldError,
        refusal::{Refusal, RefusalKind},
    },
    store::StoreError,
};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed JSON, a bad path id or query: the request cannot be read at all.
    #[error("bad request: {detail}")]
    BadRequest { code: &'static str, detail: String },
    /// No credentials, or credentials that do not hold (`invalid_token`, `invalid_credentials`...).
    #[error("unauthorized: {code}")]
    Unauthorized {
        code: &'static str,
        detail: &'static str,
    },
    #[error("forbidden")]
    Forbidden,
    /// Signed in, and allowed this kind of request, but not on this thing (your own service...).
    #[error("not allowed: {detail}")]
    NotAllowed { code: &'static str, detail: String },
    /// The thing does not exist, or the caller may not know whether it does.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {detail}")]
    Conflict { code: &'static str, detail: String },
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
    /// Fields that do not hold; each is reported next to its name.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// A well-formed request that a rule of the product refuses (a past session, ...).
    #[error("unprocessable: {detail}")]
    Unprocessable { code: &'static str, detail: String },
    #[error("too many requests")]
    TooManyRequests { retry_after: Duration },
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// RFC 9457 problem details, with Kairos's `code` and, for validation, the field errors.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:kairos:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// A stable snake_case word naming the problem.
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl ApiError {
    pub fn invalid_token() -> Self {
        Self::Unauthorized {
            code: "invalid_token",
            detail: "The access token is missing, malformed, expired or revoked.",
        }
    }

    pub fn invalid_credentials() -> Self {
        Self::Unauthorized {
            code: "invalid_credentials",
            detail: "The e-mail address or password is wrong.",
        }
    }

    pub fn field(field: &str, message: &str) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    /// Converts a store error, saying what it was that was not found.
    pub fn or_missing(what: &'static str) -> impl FnOnce(StoreError) -> ApiError {
        move |err| match err {
            StoreError::NotFound => ApiError::NotFound(what),
            other => other.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::NotAllowed { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::TimedOut => StatusCode::SERVICE_UNAVAILABLE,
            Self::Validation(_) | Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn problem(self) -> Problem {
        let status = self.status().as_u16();
        let (code, title, detail, errors) = match self {
            Self::BadRequest { code, detail } => (code, "Bad request", detail, None),
            Self::Unauthorized { code, detail } => (code, "Unauthorized", detail.to_owned(), None),
            Self::Forbidden => (
                "forbidden",
                "Forbidden",
                "You are signed in but may not do this.".to_owned(),
                None,
            ),
            Self::NotAllowed { code, detail } => (code, "Forbidden", detail, None),
            Self::NotFound(what) => (
                "not_found",
                "Not found",
                format!("No {what} here, or not one you may see."),
                None,
            ),
            Self::MethodNotAllowed => (
                "method_not_allowed",
                "Method not allowed",
                "This path does not take this method; `Allow` lists the ones it takes.".to_owned(),
                None,
            ),
            Self::Conflict { code, detail } => (code, "Conflict", detail, None),
            Self::UnsupportedMediaType => (
                "unsupported_media_type",
                "Unsupported media type",
                "Send the body as JSON with `Content-Type: application/json`.".to_owned(),
                None,
            ),
            Self::PayloadTooLarge => (
                "payload_too_large",
                "Payload too large",
                "The request body is over the 64 KiB limit.".to_owned(),
                None,
            ),
            Self::RequestTimeout => (
                "request_timeout",
                "Request timeout",
                "The request body did not arrive in time.".to_owned(),
                None,
            ),
            Self::TimedOut => (
                "timed_out",
                "Service unavailable",
                "The server could not answer in time; try again shortly.".to_owned(),
                None,
            ),
            Self::Validation(errors) => (
                "validation_failed",
                "Validation failed",
                validation_summary(&errors),
                Some(errors),
            ),
            Self::Unprocessable { code, detail } => (code, "Unprocessable request", detail, None),
            Self::TooManyRequests { retry_after } => (
                "too_many_requests",
                "Too many requests",
                format!(
                    "Too many attempts; try again in {} seconds.",
                    retry_after_secs(retry_after)
                ),
                None,
            ),
            Self::Unavailable(_) => (
                "service_unavailable",
                "Service unavailable",
                "The database is unavailable; try again shortly.".to_owned(),
                None,
            ),
            Self::Internal(_) => (
                "internal_error",
                "Internal server error",
                "Something went wrong on our side. It has been logged.".to_owned(),
                None,
            ),
        };
        Problem {
            kind: format!("urn:kairos:problem:{code}"),
            title,
            status,
            detail,
            code,
            errors,
        }
    }
}

fn validation_summary(errors: &[FieldError]) -> String {
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    format!("Some fields are not valid: {}.", fields.join(", "))
}

/// Whole seconds, rounded up so a client that waits that long is not refused again.
fn retry_after_secs(retry_after: Duration) -> u64 {
    retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(err) => tracing::error!(error = ?err, "request failed"),
            Self::Unavailable(err) => tracing::warn!(error = %err, "database unavailable"),
            _ => {}
        }
        let status = self.status();
        let retry_after = match &self {
            Self::TooManyRequests { retry_after } => Some(retry_after_secs(*retry_after)),
            Self::Unavailable(_) | Self::TimedOut => Some(1),
            _ => None,
        };
        let www_authenticate = match &self {
            Self::Unauthorized { code, .. } if *code == "invalid_token" => {
                Some(r#"Bearer error="invalid_token""#)
            }
            Self::Unauthorized { .. } => Some("Bearer"),
            _ => None,
        };
        let mut response = (status, problem_json(&self.problem())).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(value) = www_authenticate {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(value));
        }
        response
    }
}

/// The body and content type of a problem response.
pub fn problem_json(problem: &Problem) -> impl IntoResponse + use<> {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        )],
        body,
    )
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::NotFound("such thing"),
            StoreError::Refused(refusal) => refusal.into(),
            StoreError::Unavailable(reason) => ApiError::Unavailable(anyhow::anyhow!(reason)),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let (code, detail) = (refusal.code(), refusal.detail());
        match refusal.kind() {
            RefusalKind::Conflict => ApiError::Conflict { code, detail },
            RefusalKind::NotAllowed => ApiError::NotAllowed { code, detail },
            RefusalKind::BreaksRule => ApiError::Unprocessable { code, detail },
        }
    }
}
