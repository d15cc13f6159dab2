//! RFC 9457 problem details: the `code`, title and words each error is answered with. The pages
//! show the same words on their error pages and next to form fields.

use std::time::Duration;

use axum::{
    http::{HeaderValue, header},
    response::IntoResponse,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use crate::{
    app::{AppError, Unauthenticated},
    domain::{FieldError, refusal::RefusalKind},
};

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

impl Problem {
    pub fn of(error: &ApiError) -> Self {
        let (code, title, detail, errors) = parts(error);
        Problem {
            kind: format!("urn:kairos:problem:{code}"),
            title,
            status: error.status().as_u16(),
            // A rejection's words may quote the request (an unknown query field's name), and the
            // document promises no string holds NUL: shown as U+FFFD, as e-mail keys are.
            detail: detail.replace('\0', "\u{FFFD}"),
            code,
            errors,
        }
    }
}

type Parts = (&'static str, &'static str, String, Option<Vec<FieldError>>);

fn parts(error: &ApiError) -> Parts {
    let said = |code, title, detail: &str| (code, title, detail.to_owned(), None);
    match error {
        ApiError::App(err) => app_parts(err),
        ApiError::BadRequest { code, detail } => (code, "Bad request", detail.clone(), None),
        ApiError::NoRefreshToken => said(
            "invalid_token",
            "Unauthorized",
            "Send the refresh token as `Authorization: Bearer` or as `{\"token\"}`.",
        ),
        ApiError::MethodNotAllowed => said(
            "method_not_allowed",
            "Method not allowed",
            "This path does not take this method; `Allow` lists the ones it takes.",
        ),
        ApiError::UnsupportedMediaType => said(
            "unsupported_media_type",
            "Unsupported media type",
            "Send the body as JSON with `Content-Type: application/json`.",
        ),
        ApiError::PayloadTooLarge => said(
            "payload_too_large",
            "Payload too large",
            "The request body is over the 64 KiB limit.",
        ),
        ApiError::RequestTimeout => said(
            "request_timeout",
            "Request timeout",
            "The request body did not arrive in time.",
        ),
        ApiError::TimedOut => said(
            "timed_out",
            "Service unavailable",
            "The server could not answer in time; try again shortly.",
        ),
        ApiError::TooManyRequests { retry_after } => too_many(*retry_after),
    }
}

fn app_parts(err: &AppError) -> Parts {
    let said = |code, title, detail: &str| (code, title, detail.to_owned(), None);
    match err {
        AppError::Validation(errors) => (
            "validation_failed",
            "Validation failed",
            validation_summary(errors),
            Some(errors.clone()),
        ),
        AppError::NotFound(what) => (
            "not_found",
            "Not found",
            format!("No {what} here, or not one you may see."),
            None,
        ),
        AppError::Forbidden => said(
            "forbidden",
            "Forbidden",
            "You are signed in but may not do this.",
        ),
        AppError::Refused(refusal) => {
            let title = match refusal.kind() {
                RefusalKind::Conflict => "Conflict",
                RefusalKind::NotAllowed => "Forbidden",
                RefusalKind::BreaksRule => "Unprocessable request",
            };
            (refusal.code(), title, refusal.detail(), None)
        }
        AppError::Unauthenticated(why) => {
            let (code, detail) = match why {
                Unauthenticated::InvalidToken => (
                    "invalid_token",
                    "The access token is missing, malformed, expired or revoked.",
                ),
                Unauthenticated::InvalidRefreshToken => (
                    "invalid_token",
                    "The refresh token is unknown, expired or revoked.",
                ),
                Unauthenticated::RefreshTokenReused => (
                    "refresh_token_reused",
                    "This refresh token was already used, so its login has been \
                     ended. Log in again.",
                ),
                Unauthenticated::InvalidCredentials => (
                    "invalid_credentials",
                    "The e-mail address or password is wrong.",
                ),
            };
            said(code, "Unauthorized", detail)
        }
        AppError::Throttled { retry_after } => too_many(*retry_after),
        AppError::Unavailable(_) => said(
            "service_unavailable",
            "Service unavailable",
            "The database is unavailable; try again shortly.",
        ),
        AppError::Internal(_) => said(
            "internal_error",
            "Internal server error",
            "Something went wrong on our side. It has been logged.",
        ),
    }
}

fn too_many(retry_after: Duration) -> Parts {
    (
        "too_many_requests",
        "Too many requests",
        format!(
            "Too many attempts; try again in {} seconds.",
            retry_after_secs(retry_after)
        ),
        None,
    )
}

fn validation_summary(errors: &[FieldError]) -> String {
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    format!("Some fields are not valid: {}.", fields.join(", "))
}

/// Whole seconds, rounded up so a client that waits that long is not refused again.
pub fn retry_after_secs(retry_after: Duration) -> u64 {
    retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)
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

#[cfg(test)]
mod tests {
    use super::{ApiError, Problem};

    #[test]
    fn a_detail_quoting_a_nul_shows_it_as_a_replacement_character() {
        let problem = Problem::of(&ApiError::bad_request(
            "invalid_query",
            "unknown field `a\0b`",
        ));
        assert_eq!(problem.detail, "unknown field `a\u{FFFD}b`");
        assert_eq!(problem.status, 400);
    }
}
