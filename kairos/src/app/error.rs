//! The one error a use case answers with. Adapters decide what it looks like (problem JSON, a
//! form's messages, an error page); the use case only says what went wrong.

use std::time::Duration;

use crate::{
    domain::{FieldError, refusal::Refusal},
    store::StoreError,
};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Fields that do not hold; each is reported next to its name.
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    /// The thing does not exist, or the caller may not know whether it does.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Signed in, but this is not theirs to do.
    #[error("forbidden")]
    Forbidden,
    /// A rule of the product refuses a well-formed request; nothing changed.
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// Who is asking cannot be established.
    #[error("unauthenticated: {0:?}")]
    Unauthenticated(Unauthenticated),
    /// Too many failed logins for an address: wait this long.
    #[error("too many failed logins")]
    Throttled { retry_after: Duration },
    /// The database cannot serve now (down, full, busy); trying again later may work.
    #[error("unavailable: {0}")]
    Unavailable(#[source] anyhow::Error),
    /// A bug or a broken invariant; the cause is for the log only.
    #[error("internal error: {0}")]
    Internal(#[source] anyhow::Error),
}

/// Why a caller is not recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unauthenticated {
    /// An access token that is missing, malformed, expired or whose login has ended.
    InvalidToken,
    /// A refresh token that is unknown, expired or whose login has ended.
    InvalidRefreshToken,
    /// A refresh token presented a second time: its login has been ended.
    RefreshTokenReused,
    /// A wrong address or password (the same answer for both).
    InvalidCredentials,
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// Converts a store error, saying what it was that was not found.
    pub fn or_missing(what: &'static str) -> impl FnOnce(StoreError) -> AppError {
        move |err| match err {
            StoreError::NotFound => AppError::NotFound(what),
            other => other.into(),
        }
    }

    pub(crate) fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => AppError::NotFound("such thing"),
            StoreError::Refused(refusal) => AppError::Refused(refusal),
            StoreError::Unavailable(reason) => AppError::Unavailable(anyhow::anyhow!(reason)),
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        AppError::Refused(refusal)
    }
}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        AppError::Validation(vec![error])
    }
}
