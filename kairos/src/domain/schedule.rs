//! A schedule: what happens when, for the customer who booked or the provider who runs it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    booking::{Booking, BookingStatus},
    session::Session,
};

/// Someone booked into a session, as its provider sees them (no e-mail address: that is theirs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attendee {
    pub booking_id: Uuid,
    pub user_id: Uuid,
    pub status: BookingStatus,
    pub notes: Option<String>,
}

/// One entry of a schedule, in time order. A customer's entries carry their `booking`; a
/// provider's carry the `session` with its `attendees`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleEntry {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub service_id: Uuid,
    pub service_name: String,
    /// The service's IANA time zone, for showing the times locally.
    pub time_zone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking: Option<Booking>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<Session>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attendees: Option<Vec<Attendee>>,
}

impl ScheduleEntry {
    pub fn of_booking(booking: Booking) -> Self {
        Self {
            starts_at: booking.session_details.time.start,
            ends_at: booking.session_details.time.end,
            service_id: booking.service_id,
            service_name: booking.service_name.clone(),
            time_zone: booking.session_details.time_zone.clone(),
            booking: Some(booking),
            session: None,
            attendees: None,
        }
    }
}
