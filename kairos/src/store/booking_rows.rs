//! How a booking is read: the one select (the booking with its session and service) every
//! booking query starts from, the row it reads into, and the bookings read back by id.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Read, Row, StoreError, Writer, query,
    query::{Repeated, repeated_texts},
    record,
};
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
        let status = status(&self.status)?;
        let cancelled_by = cancelled_by(self.cancelled_by)?;
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

/// A booking's status as the database holds it.
pub(super) fn status(raw: &str) -> Result<BookingStatus, StoreError> {
    BookingStatus::parse(raw).ok_or_else(|| super::corrupt(&format!("booking status `{raw}`")))
}

/// Who cancelled a booking, as the database holds it.
pub(super) fn cancelled_by(raw: Option<String>) -> Result<Option<CancelledBy>, StoreError> {
    raw.map(|by| {
        CancelledBy::parse(&by).ok_or_else(|| super::corrupt(&format!("cancelled_by `{by}`")))
    })
    .transpose()
}

const BY_ID: &str = concat!(booking_select!(), "WHERE b.id = $1");

pub async fn by_id(r: &mut impl Read, id: Uuid) -> Result<Option<Booking>, StoreError> {
    r.fetch_value::<BookingRow>(query(BY_ID).bind(id)).await
}

static BY_IDS: Repeated = Repeated::new(|| {
    repeated_texts(
        concat!(booking_select!(), "WHERE b.id IN ("),
        "{}",
        ", ",
        ")",
        1,
    )
});

/// The bookings with these ids (those that exist), in no particular order.
pub async fn by_ids(r: &mut impl Read, ids: &[Uuid]) -> Result<Vec<Booking>, StoreError> {
    r.fetch_for_ids::<BookingRow>(&BY_IDS, ids).await
}

pub(super) async fn existing(r: &mut impl Read, id: Uuid) -> Result<Booking, StoreError> {
    by_id(r, id).await?.ok_or(StoreError::NotFound)
}

/// The booking as it now is, after a change to it in this transaction: it must be there.
pub(super) async fn reread(w: &mut Writer, id: Uuid) -> Result<Booking, StoreError> {
    by_id(w, id)
        .await?
        .ok_or_else(|| StoreError::missing(format!("booking {id}, just changed")))
}

/// The bookings as they now are, after a change to them in this transaction. One read each:
/// only changes to many bookings at once (a session cancelled, a service withdrawn, the
/// housekeeping pass) call this, and those are rare.
pub(crate) async fn reread_all(
    w: &mut Writer,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<Vec<Booking>, StoreError> {
    let mut bookings = Vec::new();
    for id in ids {
        bookings.push(reread(w, id).await?);
    }
    Ok(bookings)
}

/// The live (pending) bookings of a session, as they now are.
pub async fn pending_of_session(
    r: &mut impl Read,
    session_id: Uuid,
) -> Result<Vec<Booking>, StoreError> {
    r.fetch_values::<BookingRow>(
        query(concat!(
            booking_select!(),
            "WHERE b.session_id = $1 AND b.status = 'Pending' ORDER BY b.id"
        ))
        .bind(session_id),
    )
    .await
}
