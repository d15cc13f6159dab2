//! Form errors, shown next to the field they concern, and the parsing of form text.

use std::collections::HashMap;

use axum::{http::StatusCode, response::Response};
use serde::Deserialize;

use super::{OrPage, WebError, cookies::Viewer, see};
use crate::{
    app::AppError,
    domain::refusal::Refusal,
    http::{error::ApiError, problem::Problem},
};

/// Why a form was not done: what was typed does not read (a date that is not a date), or the
/// use case refused it.
#[derive(Debug)]
pub enum NotDone {
    Typed(FormErrors),
    Refused(ApiError),
}

impl From<FormErrors> for NotDone {
    fn from(errors: FormErrors) -> Self {
        NotDone::Typed(errors)
    }
}

impl From<AppError> for NotDone {
    fn from(error: AppError) -> Self {
        NotDone::Refused(error.into())
    }
}

/// What a submitted form leads to: done, the page `done` names (a 303, so a reload does not
/// send it again); not done, the form's page again with its errors and the refusal's status,
/// drawn by `again`. A refusal that is not about the form (not found, not yours) is an error
/// page instead.
pub async fn answer<T, Again>(
    viewer: &Viewer,
    outcome: Result<T, NotDone>,
    done: impl FnOnce(T) -> String,
    again: impl FnOnce(StatusCode, FormErrors) -> Again,
) -> Result<Response, WebError>
where
    Again: Future<Output = Result<Response, WebError>>,
{
    match outcome {
        Ok(value) => Ok(see(&done(value))),
        Err(NotDone::Typed(errors)) => again(StatusCode::UNPROCESSABLE_ENTITY, errors).await,
        Err(NotDone::Refused(error)) => {
            let status = error.status();
            again(status, FormErrors::from_api(error).or_page(viewer)?).await
        }
    }
}

/// What went wrong with a submitted form: per field, and for the form as a whole.
#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    fields: HashMap<String, String>,
    pub general: Option<String>,
}

impl FormErrors {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_none()
    }

    /// The message for one field, or an empty string (templates show it only when set).
    pub fn get(&self, field: &str) -> &str {
        self.fields.get(field).map_or("", String::as_str)
    }

    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    pub fn field(&mut self, field: &str, message: impl Into<String>) {
        self.fields
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    pub fn general(message: impl Into<String>) -> Self {
        Self {
            general: Some(message.into()),
            ..Self::default()
        }
    }

    /// The errors a refusal means for a form, or the error itself when it is not about the
    /// form (it becomes an error page). Field names are the API's (`durationMinutes`), and the
    /// words are the API's too.
    pub fn from_api(error: impl Into<ApiError>) -> Result<Self, ApiError> {
        let error = error.into();
        let mut errors = Self::default();
        match error {
            ApiError::App(AppError::Validation(list)) => {
                for e in list {
                    let field = e.field.split('.').next().unwrap_or_default().to_owned();
                    errors.field(&field, e.message);
                }
            }
            ApiError::App(AppError::Refused(Refusal::EmailTaken)) => {
                errors.field("email", Refusal::EmailTaken.detail());
            }
            ApiError::App(AppError::Refused(_) | AppError::Unauthenticated(_)) => {
                errors.general = Some(Problem::of(&error).detail);
            }
            ApiError::TooManyRequests { retry_after }
            | ApiError::App(AppError::Throttled { retry_after }) => {
                let minutes = retry_after.as_secs().div_ceil(60).max(1);
                errors.general = Some(format!(
                    "Too many attempts. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                ));
            }
            other => return Err(other),
        }
        Ok(errors)
    }
}

/// A form with nothing in it but its CSRF token (a button).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyForm {}

/// A form that cancels or withdraws something, with an optional reason.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonForm {
    pub reason: Option<String>,
}

/// A form's text for an optional field: blank means absent.
pub fn optional(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// A whole number typed into a form, checked.
pub fn number(text: &str, field: &str, errors: &mut FormErrors) -> Option<i64> {
    match text.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.field(field, "must be a whole number");
            None
        }
    }
}

/// Where to go back to after logging in: only a path on this site.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_only_goes_somewhere_on_this_site() {
        assert_eq!(
            safe_next(Some("/user/1/bookings?x=1")).as_deref(),
            Some("/user/1/bookings?x=1")
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:1",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
    }
}
