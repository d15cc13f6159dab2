//! Validated values and the rules of the product, with no I/O: what the handlers check before the
//! store is asked to change anything.

pub mod availability;
pub mod booking;
pub mod calendar;
pub mod clock;
pub mod delivery;
pub mod destination;
pub mod email;
pub mod event;
pub mod id;
pub mod local_time;
pub mod notice;
pub mod outbox;
pub mod page;
pub mod password;
pub mod refusal;
pub mod schedule;
pub mod service;
pub mod session;
pub mod user;
pub mod waitlist;
pub mod webhook;

/// A problem with one field of a request, reported back next to that field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The request field, as the client spelled it (`email`, `repeat.until`, ...).
    pub field: String,
    /// What is wrong with it, in words a person can act on.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What every text a person types must not hold: NUL, which PostgreSQL cannot store (and no one
/// types on purpose). Checked with the field's other limits, so both backends refuse it alike.
pub fn has_nul(text: &str) -> bool {
    text.contains('\0')
}

pub const NUL_MESSAGE: &str = "must not contain NUL characters";
