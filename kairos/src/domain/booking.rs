//! Bookings and the rules for making, cancelling and moving them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{FieldError, refusal::Refusal, service::ServiceStatus, session::SessionStatus};

/// Spelled as in the seed. Completed and Cancelled are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum BookingStatus {
    Pending,
    Completed,
    Cancelled,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Pending => "Pending",
            BookingStatus::Completed => "Completed",
            BookingStatus::Cancelled => "Cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "Pending" => Some(BookingStatus::Pending),
            "Completed" => Some(BookingStatus::Completed),
            "Cancelled" => Some(BookingStatus::Cancelled),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CancelledBy {
    Customer,
    Provider,
    Admin,
    /// Kairos itself, e.g. when a provider withdraws a service.
    System,
}

impl CancelledBy {
    pub fn as_str(self) -> &'static str {
        match self {
            CancelledBy::Customer => "customer",
            CancelledBy::Provider => "provider",
            CancelledBy::Admin => "admin",
            CancelledBy::System => "system",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "customer" => Some(CancelledBy::Customer),
            "provider" => Some(CancelledBy::Provider),
            "admin" => Some(CancelledBy::Admin),
            "system" => Some(CancelledBy::System),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TimeRange {
    #[serde(serialize_with = "crate::domain::clock::serialize_time")]
    pub start: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::clock::serialize_time")]
    pub end: DateTime<Utc>,
}

/// The seed's "session details object": when, where, and what else to know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionDetails {
    pub time: TimeRange,
    pub time_zone: String,
    pub location: String,
    pub additional_information: Vec<String>,
}

/// A booking as the API shows it (and as an idempotent retry gets it back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    pub id: Uuid,
    /// The customer who booked.
    pub user_id: Uuid,
    pub service_id: Uuid,
    /// The session (bookable time) the place is in; a move changes it.
    pub session_id: Uuid,
    /// Who runs the service.
    pub provider_id: Uuid,
    pub service_name: String,
    pub status: BookingStatus,
    /// When and where, as the session now is.
    pub session_details: SessionDetails,
    /// The customer's words for the provider.
    pub notes: Option<String>,
    pub cancellation_reason: Option<String>,
    pub cancelled_by: Option<CancelledBy>,
    #[serde(serialize_with = "crate::domain::clock::serialize_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::clock::serialize_time")]
    pub updated_at: DateTime<Utc>,
    /// Bumped on every change that calendars must pick up: the feed's and the invitations'
    /// SEQUENCE. Not shown in answers.
    #[serde(skip)]
    #[schema(ignore)]
    pub sequence: i64,
}

/// What deciding whether a session can be booked needs to know.
#[derive(Debug, Clone)]
pub struct Bookable {
    pub starts_at: DateTime<Utc>,
    pub session_status: SessionStatus,
    pub service_status: ServiceStatus,
    pub booking_notice_minutes: i64,
    pub provider_id: Uuid,
}

/// Whether `booker` may take a place in the session now (capacity aside: the database decides
/// that, atomically).
pub fn check_bookable(session: &Bookable, booker: Uuid, now: DateTime<Utc>) -> Result<(), Refusal> {
    // Who first: a provider may never book its own service (403), whatever state it is in.
    if session.provider_id == booker {
        return Err(Refusal::OwnService);
    }
    session.check_open(now)
}

impl Bookable {
    /// Whether anyone may take a place in the session now: the session's side of
    /// [`check_bookable`]. A waitlist is served while this holds, and ends when it stops.
    pub fn check_open(&self, now: DateTime<Utc>) -> Result<(), Refusal> {
        if self.service_status != ServiceStatus::Published {
            return Err(Refusal::ServiceNotPublished);
        }
        if self.session_status == SessionStatus::Cancelled {
            return Err(Refusal::SessionCancelled);
        }
        if self.starts_at <= now {
            return Err(Refusal::SessionStarted);
        }
        if self.closes_at() < now {
            return Err(Refusal::BookingNotice {
                minutes: self.booking_notice_minutes,
            });
        }
        Ok(())
    }

    /// The last moment a place can be taken: the start less the booking notice.
    pub fn closes_at(&self) -> DateTime<Utc> {
        self.starts_at - Duration::minutes(self.booking_notice_minutes)
    }
}

/// Whether a customer may still cancel or move away from a session starting at `starts_at`.
/// Providers and admins are not held to the notice.
pub fn check_cancellation_notice(
    starts_at: DateTime<Utc>,
    notice_minutes: i64,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    if starts_at - Duration::minutes(notice_minutes) < now {
        Err(Refusal::CancellationNotice {
            minutes: notice_minutes,
        })
    } else {
        Ok(())
    }
}

/// How many of someone's bookings are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct BookingCounts {
    pub pending: i64,
    pub completed: i64,
    pub cancelled: i64,
}

pub const NOTES_MAX: usize = 2000;
pub const REASON_MAX: usize = 500;

/// Notes for the provider: trimmed, blank is none, at most [`NOTES_MAX`] characters.
pub fn checked_notes(notes: Option<String>) -> Result<Option<String>, FieldError> {
    trimmed_within(notes, "notes", NOTES_MAX)
}

/// Why something was cancelled: trimmed, blank is none, at most [`REASON_MAX`] characters.
pub fn checked_reason(reason: Option<String>) -> Result<Option<String>, FieldError> {
    trimmed_within(reason, "reason", REASON_MAX)
}

fn trimmed_within(
    text: Option<String>,
    field: &str,
    max: usize,
) -> Result<Option<String>, FieldError> {
    let text = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if text.as_deref().is_some_and(super::has_nul) {
        return Err(FieldError::new(field, super::NUL_MESSAGE));
    }
    if text.as_ref().is_some_and(|t| t.chars().count() > max) {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(starts_in_minutes: i64, notice: i64) -> (Bookable, DateTime<Utc>) {
        let now = Utc::now();
        let bookable = Bookable {
            starts_at: now + Duration::minutes(starts_in_minutes),
            session_status: SessionStatus::Scheduled,
            service_status: ServiceStatus::Published,
            booking_notice_minutes: notice,
            provider_id: Uuid::nil(),
        };
        (bookable, now)
    }

    #[test]
    fn booking_notice_and_past_sessions() {
        let booker = Uuid::now_v7();
        let (ok, now) = session(120, 60);
        assert_eq!(check_bookable(&ok, booker, now), Ok(()));
        let (too_soon, now) = session(30, 60);
        assert_eq!(
            check_bookable(&too_soon, booker, now),
            Err(Refusal::BookingNotice { minutes: 60 })
        );
        let (past, now) = session(-5, 0);
        assert_eq!(
            check_bookable(&past, booker, now),
            Err(Refusal::SessionStarted)
        );
        assert_eq!(
            check_bookable(&ok, Uuid::nil(), now),
            Err(Refusal::OwnService)
        );
    }

    #[test]
    fn notes_and_reasons_are_trimmed_and_limited() {
        assert_eq!(checked_notes(Some("  hi ".into())), Ok(Some("hi".into())));
        assert_eq!(checked_notes(Some("   ".into())), Ok(None));
        assert!(checked_notes(Some("x".repeat(NOTES_MAX + 1))).is_err());
        assert!(checked_reason(Some("x".repeat(REASON_MAX))).is_ok());
        let too_long = checked_reason(Some("x".repeat(REASON_MAX + 1))).expect_err("long");
        assert_eq!(too_long.field, "reason");
    }

    #[test]
    fn cancellation_notice() {
        let now = Utc::now();
        assert!(check_cancellation_notice(now + Duration::hours(25), 24 * 60, now).is_ok());
        assert!(check_cancellation_notice(now + Duration::hours(23), 24 * 60, now).is_err());
    }
}
