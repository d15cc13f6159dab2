//! How a booking is read: the one select (the booking with its session and service) every
//! booking query starts from, and the row it reads into.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Row, StoreError, record};
use crate::domain::booking::{Booking, BookingStatus, CancelledBy, SessionDetails, TimeRange};

/// Selects what [`BookingRow`] reads: the booking with its session and service.
macro_rules! booking_select {
    () => {
        "SELECT b.id, b.user_id, b.service_id, b.session_id, b.provider_id, b.status, b.notes, \
         b.cancellation_reason, b.cancelled_by, b.created_at, b.updated_at, b.sequence, s.starts_at, \
         s.ends_at, s.location, s.additional_information, svc.time_zone, \
         svc.name AS service_name \
         FROM bookings b JOIN sessions s ON s.id = b.session_id \
         JOIN services svc ON svc.id = b.service_id "
    };
}
pub(crate) use booking_select;

record! {
    pub(crate) struct BookingRow {
        id: Uuid,
        user_id: Uuid,
        service_id: Uuid,
        session_id: Uuid,
        provider_id: Uuid,
        status: String,
        notes: Option<String>,
        cancellation_reason: Option<String>,
        cancelled_by: Option<String>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        sequence: i64,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        location: String,
        additional_information: String,
        time_zone: String,
        service_name: String,
    }
}

impl Row for BookingRow {
    type Value = Booking;

    fn value(self) -> Result<Booking, StoreError> {
        let status = BookingStatus::parse(&self.status)
            .ok_or_else(|| super::corrupt(&format!("booking status `{}`", self.status)))?;
        let cancelled_by = self
            .cancelled_by
            .map(|by| {
                CancelledBy::parse(&by)
                    .ok_or_else(|| super::corrupt(&format!("cancelled_by `{by}`")))
            })
            .transpose()?;
        Ok(Booking {
            id: self.id,
            user_id: self.user_id,
            service_id: self.service_id,
            session_id: self.session_id,
            provider_id: self.provider_id,
            service_name: self.service_name,
            status,
            session_details: SessionDetails {
                time: TimeRange {
                    start: self.starts_at,
                    end: self.ends_at,
                },
                time_zone: self.time_zone,
                location: self.location,
                additional_information: super::sessions::information(&self.additional_information)?,
            },
            notes: self.notes,
            cancellation_reason: self.cancellation_reason,
            cancelled_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
            sequence: self.sequence,
        })
    }
}
