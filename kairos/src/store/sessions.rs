//! Sessions: adding them (one or a series), listing, moving and cancelling them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Changed, Constraint, Dialect, Read, Row, StoreError, Writer,
    booking_rows::{pending_of_session, reread_all},
    on_violation, query, record,
    services::release_seats,
};
use crate::domain::{
    booking::{Booking, CancelledBy},
    page::TimeCursor,
    refusal::Refusal,
    service::ServiceStatus,
    session::{Session, SessionStatus},
    waitlist::ListEnd,
};

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: i64,
    pub location: String,
    pub additional_information: Vec<String>,
}

/// A session's fields after an edit (the use case merges and validates).
#[derive(Debug, Clone)]
pub struct SessionChanges {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: i64,
    pub location: String,
    pub additional_information: Vec<String>,
}

macro_rules! session_columns {
    () => {
        "id, service_id, starts_at, ends_at, location, capacity, booked, waiting, \
         additional_information, status, cancellation_reason"
    };
}

record! {
    pub(crate) struct SessionRow {
        id: Uuid,
        service_id: Uuid,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        location: String,
        capacity: i64,
        booked: i64,
        waiting: i64,
        additional_information: String,
        status: String,
        cancellation_reason: Option<String>,
    }
}

impl SessionRow {
    pub(crate) fn starts_at(&self) -> DateTime<Utc> {
        self.starts_at
    }
}

impl Row for SessionRow {
    type Value = Session;

    fn value(self) -> Result<Session, StoreError> {
        let status = SessionStatus::parse(&self.status)
            .ok_or_else(|| super::corrupt(&format!("session status `{}`", self.status)))?;
        Ok(Session {
            id: self.id,
            service_id: self.service_id,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            location: self.location,
            capacity: self.capacity,
            booked: self.booked,
            spots_left: (self.capacity - self.booked).max(0),
            waiting: self.waiting,
            additional_information: information(&self.additional_information)?,
            status,
            cancellation_reason: self.cancellation_reason,
        })
    }
}

/// Additional information is kept as a JSON array of strings.
pub(crate) fn information(json: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(json).map_err(|_| super::corrupt("additional information"))
}

fn information_json(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

/// A service's sessions starting in `[from, to)` (only scheduled ones, if asked), soonest first,
/// after the cursor.
pub async fn of_service(
    r: &mut impl Read,
    service_id: Uuid,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    scheduled_only: bool,
    after: Option<TimeCursor>,
    limit: u32,
) -> Result<Vec<Session>, StoreError> {
    let (after_start, after_id) = after.unzip();
    r.fetch_values::<SessionRow>(
        query(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE service_id = $1 AND starts_at >= $2 AND starts_at < $3 \
             AND ($4 IS NULL OR starts_at > $4 OR (starts_at = $4 AND id > $5)) \
             AND ($7 = FALSE OR status = 'scheduled') \
             ORDER BY starts_at, id LIMIT $6"
        ))
        .bind(service_id)
        .bind(from)
        .bind(to)
        .bind(after_start)
        .bind(after_id)
        .bind(limit)
        .bind(scheduled_only),
    )
    .await
}

#[rustfmt::skip]
const BY_ID: &str = concat!("SELECT ", session_columns!(), " FROM sessions WHERE id = $1");

pub async fn by_id(r: &mut impl Read, id: Uuid) -> Result<Option<Session>, StoreError> {
    r.fetch_value::<SessionRow>(query(BY_ID).bind(id)).await
}

/// Adds sessions to a service that is not archived, all or none.
pub async fn add(
    w: &mut Writer,
    service_id: Uuid,
    sessions: Vec<NewSession>,
    now: DateTime<Utc>,
) -> Result<Vec<Session>, StoreError> {
    let service = super::services::by_id(w, service_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if service.status == ServiceStatus::Archived {
        return Err(StoreError::Refused(Refusal::ServiceArchived));
    }
    let mut added = Vec::with_capacity(sessions.len());
    for session in sessions {
        let row = w
            .fetch_one::<SessionRow>(
                query(concat!(
                    "INSERT INTO sessions (id, service_id, starts_at, ends_at, location, \
                     capacity, booked, additional_information, status, sequence, created_at, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, 'scheduled', 0, $8, $8) \
                     RETURNING ",
                    session_columns!()
                ))
                .bind(session.id)
                .bind(service_id)
                .bind(session.starts_at)
                .bind(session.ends_at)
                .bind(session.location)
                .bind(session.capacity)
                .bind(information_json(&session.additional_information))
                .bind(now),
            )
            .await?;
        added.push(row.value()?);
    }
    Ok(added)
}

/// A session after an edit, and, if the edit moved it, what it was and its pending bookings
/// (which followed it) as they now are.
#[derive(Debug, Clone)]
pub struct SessionUpdate {
    pub session: Session,
    pub moved_from: Option<Session>,
    pub moved_bookings: Vec<Booking>,
}

/// Moves or edits a scheduled session; its live bookings follow. Capacity cannot go below the
/// places already booked ([`Refusal::CapacityBelowBooked`]).
pub async fn update(
    w: &mut Writer,
    id: Uuid,
    changes: SessionChanges,
    now: DateTime<Utc>,
) -> Result<SessionUpdate, StoreError> {
    let current = by_id(w, id).await?.ok_or(StoreError::NotFound)?;
    if current.status == SessionStatus::Cancelled {
        return Err(StoreError::Refused(Refusal::SessionCancelled));
    }
    let moved = changes.starts_at != current.starts_at || changes.ends_at != current.ends_at;
    if moved {
        lock_bookings_first(w, BookingsOf::Session(id)).await?;
    }
    let row = w
        .fetch_optional::<SessionRow>(
            query(concat!(
                "UPDATE sessions SET starts_at = $2, ends_at = $3, capacity = $4, location = $5, \
                 additional_information = $6, settled = FALSE, sequence = sequence + 1, \
                 updated_at = $7 \
                 WHERE id = $1 AND status = 'scheduled' RETURNING ",
                session_columns!()
            ))
            .bind(id)
            .bind(changes.starts_at)
            .bind(changes.ends_at)
            .bind(changes.capacity)
            .bind(changes.location)
            .bind(information_json(&changes.additional_information))
            .bind(now),
        )
        .await
        .map_err(on_violation(
            Constraint::SessionsCapacity,
            StoreError::Refused(Refusal::CapacityBelowBooked),
        ))?
        .ok_or(StoreError::Refused(Refusal::SessionCancelled))?;
    if moved {
        // Lists order bookings by the start kept on each (cancelled ones too).
        w.execute(
            query("UPDATE bookings SET session_starts_at = $2 WHERE session_id = $1")
                .bind(id)
                .bind(changes.starts_at),
        )
        .await?;
        // Calendars show bookings of a moved session at its new time.
        w.execute(
            query(
                "UPDATE bookings SET sequence = sequence + 1, updated_at = $2 \
                 WHERE session_id = $1 AND status <> 'Cancelled'",
            )
            .bind(id)
            .bind(now),
        )
        .await?;
    }
    let mut session = row.value()?;
    if session.waiting > 0 && session.spots_left > 0 {
        // A capacity raised: one promotion per new place.
        super::promotion::fill(w, id, now).await?;
        session = by_id(w, id)
            .await?
            .ok_or_else(|| StoreError::missing(format!("session {id}, just changed")))?;
    }
    if !moved {
        return Ok(SessionUpdate {
            session,
            moved_from: None,
            moved_bookings: Vec::new(),
        });
    }
    Ok(SessionUpdate {
        moved_bookings: pending_of_session(w, id).await?,
        moved_from: Some(current),
        session,
    })
}

/// Cancels a session that has not ended, and its pending bookings with the reason. Answers the
/// session and the bookings it cancelled, as they now are (none if it was cancelled already).
pub async fn cancel(
    w: &mut Writer,
    id: Uuid,
    reason: String,
    by: CancelledBy,
    now: DateTime<Utc>,
) -> Result<(Changed<Session>, Vec<Booking>), StoreError> {
    let current = by_id(w, id).await?.ok_or(StoreError::NotFound)?;
    if current.status == SessionStatus::Cancelled {
        return Ok((Changed::no(current), Vec::new()));
    }
    if current.ends_at <= now {
        return Err(StoreError::Refused(Refusal::SessionEnded));
    }
    lock_bookings_first(w, BookingsOf::Session(id)).await?;
    let cancelled = w
        .execute(
            query(
                "UPDATE sessions SET status = 'cancelled', cancellation_reason = $2, \
                 sequence = sequence + 1, updated_at = $3 WHERE id = $1 AND status <> 'cancelled'",
            )
            .bind(id)
            .bind(reason.clone())
            .bind(now),
        )
        .await?;
    if cancelled == 0 {
        // Another cancellation committed since the read above: it did the work, once.
        let session = by_id(w, id).await?.ok_or(StoreError::NotFound)?;
        return Ok((Changed::no(session), Vec::new()));
    }
    let freed: Vec<(Uuid, Uuid)> = w
        .fetch_all(
            query(
                "UPDATE bookings SET status = 'Cancelled', cancellation_reason = $2, \
                 cancelled_by = $3, sequence = sequence + 1, updated_at = $4 \
                 WHERE session_id = $1 AND status = 'Pending' RETURNING id, session_id",
            )
            .bind(id)
            .bind(reason)
            .bind(by.as_str())
            .bind(now),
        )
        .await?;
    release_seats(w, &freed, now).await?;
    super::waitlist::end(w, id, ListEnd::SessionCancelled, now).await?;
    let session = by_id(w, id)
        .await?
        .ok_or_else(|| StoreError::missing(format!("session {id}, just cancelled")))?;
    let bookings = reread_all(w, freed.into_iter().map(|(booking, _)| booking)).await?;
    Ok((
        Changed {
            value: session,
            changed: true,
        },
        bookings,
    ))
}

/// Whose live bookings [`lock_bookings_first`] takes.
pub(super) enum BookingsOf {
    Session(Uuid),
    /// A service's sessions that have not ended by the time given.
    Service(Uuid, DateTime<Utc>),
}

/// Locks the live bookings a change to sessions is about to change with them, before it
/// touches the sessions: booking rows before session rows is the order every transaction locks
/// in (`bookings.rs`), so a customer cancelling or moving one of them at the same moment waits
/// for this change instead of the two deadlocking (a 503 on PostgreSQL). SQLite's one writer
/// takes no row locks, so there it does nothing.
pub(super) async fn lock_bookings_first(w: &mut Writer, of: BookingsOf) -> Result<(), StoreError> {
    if w.dialect() != Dialect::Postgres {
        return Ok(());
    }
    let statement = match of {
        BookingsOf::Session(id) => query(
            "SELECT id FROM bookings WHERE session_id = $1 AND status <> 'Cancelled' \
             ORDER BY id FOR UPDATE",
        )
        .bind(id),
        BookingsOf::Service(id, now) => query(
            "SELECT id FROM bookings WHERE service_id = $1 AND status <> 'Cancelled' \
             AND session_id IN (SELECT id FROM sessions WHERE service_id = $1 AND ends_at > $2) \
             ORDER BY id FOR UPDATE",
        )
        .bind(id)
        .bind(now),
    };
    w.fetch_all::<(Uuid,)>(statement).await.map(drop)
}
