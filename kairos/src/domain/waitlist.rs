//! The waitlist: someone's place in the queue for a full session.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::refusal::Refusal;

/// Someone waiting for a place in a full session. When a place frees up, the first in line who
/// is free at that time gets a Pending booking at once, and the entry is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitlistEntry {
    pub id: Uuid,
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub service_id: Uuid,
    /// Where they stand: 1 is next.
    #[schema(minimum = 1)]
    pub position: i64,
    pub created_at: DateTime<Utc>,
    /// What is waited for, so a list of entries reads on its own.
    pub service_name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The service's IANA time zone.
    pub time_zone: String,
}

/// Why a session's list ended with people still on it. Each of them hears of it
/// (`waitlist.ended`, and a mail), instead of finding their place gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListEnd {
    /// The session was cancelled, or its service withdrawn.
    SessionCancelled,
    /// The provider turned the service's waitlist off.
    WaitlistClosed,
    /// Booking closed (the session started, or it is inside the booking notice) before a place
    /// came free.
    BookingClosed,
}

impl ListEnd {
    /// Why a list ends when its session is no longer open for booking (see
    /// [`super::booking::Bookable::check_open`]).
    pub fn of_closed(refusal: &Refusal) -> Self {
        match refusal {
            Refusal::SessionCancelled | Refusal::ServiceNotPublished => ListEnd::SessionCancelled,
            _ => ListEnd::BookingClosed,
        }
    }

    /// What the mail says happened, after "The waitlist for ... has ended: ".
    pub fn in_words(self) -> &'static str {
        match self {
            ListEnd::SessionCancelled => "the session was cancelled",
            ListEnd::WaitlistClosed => "the provider closed its waitlist",
            ListEnd::BookingClosed => "booking closed before a place came free",
        }
    }
}
