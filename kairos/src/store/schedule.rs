//! A provider's schedule, calendar-feed tokens, and what the feeds show.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Read, Row, StoreError, Writer,
    booking_rows::{BookingRow, booking_select},
    query, record,
    sessions::SessionRow,
};
use crate::domain::{
    booking::{Booking, BookingStatus},
    page::TimeCursor,
    schedule::{Attendee, ScheduleEntry},
};

/// The most events a feed carries.
pub const FEED_EVENTS_MAX: u32 = 2000;

record! {
    /// A session as its provider's calendar feed shows it.
    #[derive(Debug, Clone)]
    pub struct SessionEvent {
        pub id: Uuid,
        pub service_id: Uuid,
        /// As the database spells it (`cancelled` is kept in the feed as cancelled).
        pub status: String,
        pub sequence: i64,
        pub updated_at: DateTime<Utc>,
        pub starts_at: DateTime<Utc>,
        pub ends_at: DateTime<Utc>,
        pub location: String,
        /// The JSON array of lines, as stored.
        pub additional_information: String,
        pub booked: i64,
        pub capacity: i64,
        pub service_name: String,
        pub service_description: String,
    }
}

record! {
    struct SlotRow {
        session: SessionRow,
        service_name: String,
        time_zone: String,
    }
}

record! {
    struct AttendeeRow {
        id: Uuid,
        user_id: Uuid,
        session_id: Uuid,
        status: String,
        notes: Option<String>,
    }
}

/// Replaces the user's feed token (only its hash is kept): the old URL stops working.
pub async fn set_feed(
    w: &mut Writer,
    user_id: Uuid,
    token_hash: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    w.execute(
        query(
            "INSERT INTO calendar_feeds (user_id, token_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, \
             created_at = excluded.created_at",
        )
        .bind(user_id)
        .bind(token_hash)
        .bind(now),
    )
    .await
    .map(drop)
}

pub async fn is_feed(
    r: &mut impl Read,
    user_id: Uuid,
    token_hash: Vec<u8>,
) -> Result<bool, StoreError> {
    let found: Option<(Uuid,)> = r
        .fetch_optional(
            query("SELECT user_id FROM calendar_feeds WHERE user_id = $1 AND token_hash = $2")
                .bind(user_id)
                .bind(token_hash),
        )
        .await?;
    Ok(found.is_some())
}

/// A customer's bookings of sessions starting from `since`, as their feed shows them.
pub async fn booking_events(
    r: &mut impl Read,
    user_id: Uuid,
    since: DateTime<Utc>,
) -> Result<Vec<Booking>, StoreError> {
    r.fetch_values::<BookingRow>(
        query(concat!(
            booking_select!(),
            "WHERE b.user_id = $1 AND b.session_starts_at >= $2 \
             ORDER BY b.session_starts_at, b.id LIMIT $3"
        ))
        .bind(user_id)
        .bind(since)
        .bind(FEED_EVENTS_MAX),
    )
    .await
}

/// A provider's sessions starting from `since`, as their feed shows them.
pub async fn session_events(
    r: &mut impl Read,
    provider_id: Uuid,
    since: DateTime<Utc>,
) -> Result<Vec<SessionEvent>, StoreError> {
    r.fetch_all(
        query(
            "SELECT s.id, s.service_id, s.status, s.sequence, s.updated_at, s.starts_at, \
             s.ends_at, s.location, s.additional_information, s.booked, s.capacity, \
             svc.name AS service_name, svc.description AS service_description \
             FROM sessions s \
             JOIN services svc ON svc.id = s.service_id \
             WHERE svc.provider_id = $1 AND s.starts_at >= $2 \
             ORDER BY s.starts_at, s.id LIMIT $3",
        )
        .bind(provider_id)
        .bind(since)
        .bind(FEED_EVENTS_MAX),
    )
    .await
}

/// The provider's sessions starting in `[from, to)` (of one service, if given), soonest first
/// after the cursor, each with its attendees.
pub async fn provider_schedule(
    r: &mut impl Read,
    provider_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    service_id: Option<Uuid>,
    after: Option<TimeCursor>,
    limit: u32,
) -> Result<Vec<ScheduleEntry>, StoreError> {
    let (after_start, after_id) = after.unzip();
    let slots: Vec<SlotRow> = r
        .fetch_all(
            query(
                "SELECT s.id, s.service_id, s.starts_at, s.ends_at, s.location, s.capacity, \
                 s.booked, s.waiting, s.additional_information, s.status, s.cancellation_reason, \
                 svc.name AS service_name, svc.time_zone FROM sessions s \
                 JOIN services svc ON svc.id = s.service_id \
                 WHERE svc.provider_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3 \
                 AND ($4 IS NULL OR s.service_id = $4) \
                 AND ($5 IS NULL OR s.starts_at > $5 OR (s.starts_at = $5 AND s.id > $6)) \
                 ORDER BY s.starts_at, s.id LIMIT $7",
            )
            .bind(provider_id)
            .bind(from)
            .bind(to)
            .bind(service_id)
            .bind(after_start)
            .bind(after_id)
            .bind(limit),
        )
        .await?;
    let Some(last) = slots.last() else {
        return Ok(Vec::new());
    };
    let until = last.session_starts_at();
    let attendees: Vec<AttendeeRow> = r
        .fetch_all(
            query(
                "SELECT b.id, b.user_id, b.session_id, b.status, b.notes FROM bookings b \
                 JOIN sessions s ON s.id = b.session_id \
                 WHERE b.provider_id = $1 AND b.status <> 'Cancelled' \
                 AND s.starts_at >= $2 AND s.starts_at <= $3 \
                 AND ($4 IS NULL OR b.service_id = $4) ORDER BY b.id",
            )
            .bind(provider_id)
            .bind(from)
            .bind(until)
            .bind(service_id),
        )
        .await?;
    slots
        .into_iter()
        .map(|slot| {
            let session = slot.session.value()?;
            let people = attendees
                .iter()
                .filter(|a| a.session_id == session.id)
                .map(|a| {
                    Ok(Attendee {
                        booking_id: a.id,
                        user_id: a.user_id,
                        status: BookingStatus::parse(&a.status)
                            .ok_or_else(|| super::corrupt("booking status"))?,
                        notes: a.notes.clone(),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(ScheduleEntry {
                starts_at: session.starts_at,
                ends_at: session.ends_at,
                service_id: session.service_id,
                service_name: slot.service_name,
                time_zone: slot.time_zone,
                booking: None,
                session: Some(session),
                attendees: Some(people),
            })
        })
        .collect()
}

impl SlotRow {
    fn session_starts_at(&self) -> DateTime<Utc> {
        self.session.starts_at()
    }
}
