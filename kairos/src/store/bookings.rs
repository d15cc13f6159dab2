//! Bookings: taking a place, cancelling, completing those whose session ended (moving is in
//! `booking_changes.rs`, reading them back in `booking_rows.rs`, the lists in `booking_lists.rs`).
//!
//! The capacity promise lives here. A place is taken by a conditional update of the session's
//! counter (`booked < capacity`) in the same transaction as the booking row, whose partial unique
//! index allows one live booking per user and session; a `CHECK` on the counter backs both.
//! Rows are always locked booking first, then sessions in id order, so PostgreSQL transactions
//! cannot deadlock on each other; a new booking (or one moved in) is written only once its
//! session's row is held, so a waitlist promotion writing one cannot wait on it either.
//! Freeing a place fills it from the session's waitlist in the same transaction (`waitlist.rs`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Changed, Constraint, Read, StoreError, Writer,
    booking_rows::{self, existing, reread, reread_all},
    on_violation, query, record,
    services::release_seats,
};
use crate::domain::{
    booking::{
        Bookable, Booking, BookingStatus, CancelledBy, SessionDetails, TimeRange, check_bookable,
        check_cancellation_notice,
    },
    refusal::Refusal,
    service::ServiceStatus,
    session::SessionStatus,
};

/// The columns [`Target`] reads, from `sessions s JOIN services svc`.
macro_rules! target_columns {
    () => {
        "s.starts_at, s.status AS session_status, s.service_id, svc.status AS service_status, \
         svc.booking_notice_minutes, svc.cancellation_notice_minutes, svc.provider_id"
    };
}
pub(super) use target_columns;

/// The columns [`Place`] reads, from `sessions s JOIN services svc`.
macro_rules! place_columns {
    () => {
        "s.ends_at, s.location, s.additional_information, svc.time_zone, \
         svc.name AS service_name"
    };
}
pub(super) use place_columns;

#[derive(Debug, Clone)]
pub struct NewBooking {
    pub id: Uuid,
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub notes: Option<String>,
    pub now: DateTime<Utc>,
}

/// Marks pending bookings of ended sessions Completed, answering them as they now are. Safe to
/// run on several instances at once: each booking changes once, and only the instance that
/// changed it answers it.
pub async fn complete_ended(
    w: &mut Writer,
    now: DateTime<Utc>,
) -> Result<Vec<Booking>, StoreError> {
    let completed: Vec<(Uuid,)> = w
        .fetch_all(
            query(
                "UPDATE bookings SET status = 'Completed', sequence = sequence + 1, \
                 updated_at = $1 WHERE status = 'Pending' AND session_id IN \
                 (SELECT id FROM sessions WHERE settled = FALSE AND ends_at <= $1) RETURNING id",
            )
            .bind(now),
        )
        .await?;
    w.execute(
        query("UPDATE sessions SET settled = TRUE WHERE settled = FALSE AND ends_at <= $1")
            .bind(now),
    )
    .await?;
    reread_all(w, completed.into_iter().map(|(id,)| id)).await
}

record! {
    /// What deciding whether a session can be booked needs, read in the booking's transaction.
    pub(super) struct Target {
        pub(super) starts_at: DateTime<Utc>,
        session_status: String,
        pub(super) service_id: Uuid,
        service_status: String,
        booking_notice_minutes: i64,
        pub(super) cancellation_notice_minutes: i64,
        pub(super) provider_id: Uuid,
    }
}

impl Target {
    pub(super) fn bookable(&self) -> Result<Bookable, StoreError> {
        Ok(Bookable {
            starts_at: self.starts_at,
            session_status: SessionStatus::parse(&self.session_status)
                .ok_or_else(|| super::corrupt("session status"))?,
            service_status: ServiceStatus::parse(&self.service_status)
                .ok_or_else(|| super::corrupt("service status"))?,
            booking_notice_minutes: self.booking_notice_minutes,
            provider_id: self.provider_id,
        })
    }
}

pub(super) async fn target(w: &mut Writer, session_id: Uuid) -> Result<Target, StoreError> {
    w.fetch_optional::<Target>(
        query(concat!(
            "SELECT ",
            target_columns!(),
            " FROM sessions s JOIN services svc ON svc.id = s.service_id WHERE s.id = $1"
        ))
        .bind(session_id),
    )
    .await?
    .ok_or(StoreError::NotFound)
}

/// Takes one place in a session for the user, who leaves its waitlist if they were on it, or
/// fails with [`Refusal::SessionFull`] (or [`Refusal::SessionCancelled`] if it was cancelled
/// meanwhile).
pub(super) async fn take_seat(
    w: &mut Writer,
    session_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let taken: Option<(i64,)> = w
        .fetch_optional(
            query(
                "UPDATE sessions SET booked = booked + 1, sequence = sequence + 1, updated_at = $2 \
                 WHERE id = $1 AND booked < capacity AND status = 'scheduled' RETURNING waiting",
            )
            .bind(session_id)
            .bind(now),
        )
        .await?;
    if let Some((waiting,)) = taken {
        return super::waitlist::forget_booked(w, session_id, user_id, waiting).await;
    }
    let (status,): (String,) = w
        .fetch_one(query("SELECT status FROM sessions WHERE id = $1").bind(session_id))
        .await?;
    Err(StoreError::Refused(
        if status == SessionStatus::Cancelled.as_str() {
            Refusal::SessionCancelled
        } else {
            Refusal::SessionFull
        },
    ))
}

record! {
    /// Where and when a session is and of what, as a new booking of it shows (`place_columns!`).
    pub(super) struct Place {
        pub(super) ends_at: DateTime<Utc>,
        location: String,
        additional_information: String,
        pub(super) time_zone: String,
        pub(super) service_name: String,
    }
}

impl Place {
    /// A new Pending booking of the session `target` and `self` describe, as it is once made.
    pub(super) fn booking(&self, target: &Target, new: NewBooking) -> Result<Booking, StoreError> {
        Ok(Booking {
            id: new.id,
            user_id: new.user_id,
            service_id: target.service_id,
            session_id: new.session_id,
            provider_id: target.provider_id,
            service_name: self.service_name.clone(),
            status: BookingStatus::Pending,
            session_details: SessionDetails {
                time: TimeRange {
                    start: target.starts_at,
                    end: self.ends_at,
                },
                time_zone: self.time_zone.clone(),
                location: self.location.clone(),
                additional_information: super::sessions::information(&self.additional_information)?,
            },
            notes: new.notes,
            cancellation_reason: None,
            cancelled_by: None,
            created_at: new.now,
            updated_at: new.now,
            sequence: 0,
        })
    }
}

record! {
    /// What booking a session needs to know, read once: the rules' inputs, whether the booker is
    /// already subscribed, and what the answer shows.
    struct BookTarget {
        target: Target,
        place: Place,
        subscribed: bool,
    }
}

/// Takes a place in a session for the user, or refuses: the rules of
/// [`check_bookable`], then the database's (full, already booked).
pub async fn book(w: &mut Writer, new: NewBooking) -> Result<Booking, StoreError> {
    let found = w
        .fetch_optional::<BookTarget>(
            query(concat!(
                "SELECT ",
                target_columns!(),
                ", ",
                place_columns!(),
                ", EXISTS (SELECT 1 FROM subscriptions sub WHERE sub.user_id = $2 \
                 AND sub.service_id = s.service_id) AS subscribed \
                 FROM sessions s JOIN services svc ON svc.id = s.service_id WHERE s.id = $1"
            ))
            .bind(new.session_id)
            .bind(new.user_id),
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let target = &found.target;
    check_bookable(&target.bookable()?, new.user_id, new.now).map_err(StoreError::Refused)?;
    // The session's row before the booking's (see the top of this file).
    if let Err(refused) = take_seat(w, new.session_id, new.user_id, new.now).await {
        if holds_live(w, new.session_id, new.user_id).await? {
            return Err(StoreError::Refused(Refusal::AlreadyBooked));
        }
        return Err(refused);
    }
    insert(w, target, &new).await?;
    if !found.subscribed {
        subscribe(w, new.user_id, target.service_id, new.now).await?;
    }
    // The booking as it now is, from what was read above: no need to read it back.
    found.place.booking(target, new)
}

/// Writes a new Pending booking of the target's session; its place must be held already.
pub(super) async fn insert(
    w: &mut Writer,
    target: &Target,
    new: &NewBooking,
) -> Result<(), StoreError> {
    w.execute(
        query(
            "INSERT INTO bookings (id, user_id, service_id, provider_id, session_id, status, \
             notes, sequence, created_at, updated_at, session_starts_at) \
             VALUES ($1, $2, $3, $4, $5, 'Pending', $6, 0, $7, $7, $8)",
        )
        .bind(new.id)
        .bind(new.user_id)
        .bind(target.service_id)
        .bind(target.provider_id)
        .bind(new.session_id)
        .bind(new.notes.clone())
        .bind(new.now)
        .bind(target.starts_at),
    )
    .await
    .map(drop)
    .map_err(on_violation(
        Constraint::BookingsOneLivePerUser,
        StoreError::Refused(Refusal::AlreadyBooked),
    ))
}

/// Whether the user holds a live (pending or completed) booking of the session.
pub(super) async fn holds_live(
    w: &mut Writer,
    session_id: Uuid,
    user_id: Uuid,
) -> Result<bool, StoreError> {
    let (live,): (i64,) = w
        .fetch_one(
            query(
                "SELECT COUNT(*) FROM bookings WHERE session_id = $1 AND user_id = $2 \
                 AND status <> 'Cancelled'",
            )
            .bind(session_id)
            .bind(user_id),
        )
        .await?;
    Ok(live > 0)
}

/// Subscribes the user to the service (booking does, so they hear of its new sessions).
pub(super) async fn subscribe(
    w: &mut Writer,
    user_id: Uuid,
    service_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    w.execute(
        query(
            "INSERT INTO subscriptions (user_id, service_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, service_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(service_id)
        .bind(now),
    )
    .await?;
    Ok(())
}

/// Cancels a pending booking and frees its place. Cancelling a cancelled booking changes
/// nothing and answers it as it is; a completed one is [`Refusal::BookingCompleted`].
pub async fn cancel(
    w: &mut Writer,
    id: Uuid,
    by: CancelledBy,
    reason: Option<String>,
    hold_to_notice: bool,
    now: DateTime<Utc>,
) -> Result<Changed<Booking>, StoreError> {
    let booking = existing(w, id).await?;
    match booking.status {
        BookingStatus::Cancelled => return Ok(Changed::no(booking)),
        BookingStatus::Completed => return Err(StoreError::Refused(Refusal::BookingCompleted)),
        BookingStatus::Pending => {}
    }
    if hold_to_notice {
        let target = target(w, booking.session_id).await?;
        check_cancellation_notice(target.starts_at, target.cancellation_notice_minutes, now)
            .map_err(StoreError::Refused)?;
    }
    let cancelled: Option<CancelledRow> = w
        .fetch_optional(
            query(
                "UPDATE bookings SET status = 'Cancelled', cancellation_reason = $2, \
                 cancelled_by = $3, sequence = sequence + 1, updated_at = $4 \
                 WHERE id = $1 AND status = 'Pending' \
                 RETURNING session_id, status, cancellation_reason, cancelled_by, sequence, \
                 updated_at",
            )
            .bind(id)
            .bind(reason)
            .bind(by.as_str())
            .bind(now),
        )
        .await?;
    let Some(cancelled) = cancelled else {
        // A racing request changed it first; answer with what it is now.
        let booking = reread(w, id).await?;
        if booking.status == BookingStatus::Completed {
            return Err(StoreError::Refused(Refusal::BookingCompleted));
        }
        return Ok(Changed::no(booking));
    };
    release_seats(w, &[(id, cancelled.session_id)], now).await?;
    Ok(Changed {
        value: cancelled.applied_to(booking)?,
        changed: true,
    })
}

record! {
    /// A booking's own fields as its cancellation left them, read from the statement itself:
    /// reading the whole booking again (with its session and service, which a cancellation
    /// does not change) was a second three-table read in every cancel.
    struct CancelledRow {
        session_id: Uuid,
        status: String,
        cancellation_reason: Option<String>,
        cancelled_by: Option<String>,
        sequence: i64,
        updated_at: DateTime<Utc>,
    }
}

impl CancelledRow {
    fn applied_to(self, booking: Booking) -> Result<Booking, StoreError> {
        Ok(Booking {
            status: booking_rows::status(&self.status)?,
            cancellation_reason: self.cancellation_reason,
            cancelled_by: booking_rows::cancelled_by(self.cancelled_by)?,
            sequence: self.sequence,
            updated_at: self.updated_at,
            ..booking
        })
    }
}
