//! A booking changed after it was made: moved to another session of its service, its notes
//! edited, or marked Completed. Locks in the order `bookings.rs` states: booking, then sessions
//! in id order, and the booking is put in its new session only once that session is held.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Changed, Constraint, StoreError, Writer,
    booking_rows::{existing, reread},
    bookings::{take_seat, target},
    on_violation, query,
    services::release_seats,
};
use crate::domain::{
    booking::{Booking, BookingStatus, check_bookable, check_cancellation_notice},
    refusal::Refusal,
};

/// A customer's change to their booking: another session of the same service, and/or notes.
#[derive(Debug, Clone, Default)]
pub struct BookingChange {
    pub session_id: Option<Uuid>,
    pub notes: Option<Option<String>>,
    /// Customers are held to the cancellation notice; providers and admins are not.
    pub hold_to_notice: bool,
}

fn refuse_final(status: BookingStatus) -> Result<(), StoreError> {
    match status {
        BookingStatus::Pending => Ok(()),
        BookingStatus::Completed => Err(StoreError::Refused(Refusal::BookingCompleted)),
        BookingStatus::Cancelled => Err(StoreError::Refused(Refusal::BookingCancelled)),
    }
}

/// A booking after a customer's change, and, if it moved, the booking as it was before.
#[derive(Debug, Clone)]
pub struct ChangedBooking {
    pub booking: Booking,
    pub moved_from: Option<Booking>,
}

/// Moves a pending booking to another session of its service (taking the new place and
/// freeing the old one, or changing nothing) and/or edits its notes.
pub async fn change(
    w: &mut Writer,
    id: Uuid,
    change: BookingChange,
    now: DateTime<Utc>,
) -> Result<ChangedBooking, StoreError> {
    let booking = existing(w, id).await?;
    refuse_final(booking.status)?;
    let mut moved_from = None;
    // Moving to the session it is already in is a move that changes nothing.
    if let Some(new_session) = change.session_id.filter(|s| *s != booking.session_id) {
        move_booking(w, &booking, new_session, change.hold_to_notice, now).await?;
        moved_from = Some(booking);
    }
    if let Some(notes) = change.notes {
        w.execute(
            query(
                "UPDATE bookings SET notes = $2, sequence = sequence + 1, updated_at = $3 \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(notes)
            .bind(now),
        )
        .await?;
    }
    Ok(ChangedBooking {
        booking: reread(w, id).await?,
        moved_from,
    })
}

async fn move_booking(
    w: &mut Writer,
    booking: &Booking,
    new_session: Uuid,
    hold_to_notice: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let old_session = booking.session_id;
    if hold_to_notice {
        let old = target(w, old_session).await?;
        check_cancellation_notice(old.starts_at, old.cancellation_notice_minutes, now)
            .map_err(StoreError::Refused)?;
    }
    let new = target(w, new_session).await?;
    if new.service_id != booking.service_id {
        return Err(StoreError::Refused(Refusal::DifferentService));
    }
    check_bookable(&new.bookable()?, booking.user_id, now).map_err(StoreError::Refused)?;
    // Holds the booking (still pending, still where it was) before any session.
    let held = w
        .execute(
            query(
                "UPDATE bookings SET sequence = sequence + 1, updated_at = $2 \
                 WHERE id = $1 AND status = 'Pending' AND session_id = $3",
            )
            .bind(booking.id)
            .bind(now)
            .bind(old_session),
        )
        .await?;
    if held == 0 {
        return Err(StoreError::Refused(Refusal::EditConflict));
    }
    // Sessions in id order, whichever way the booking moves.
    let user = booking.user_id;
    if new_session < old_session {
        take_seat(w, new_session, user, now).await?;
        put_in(w, booking.id, new_session).await?;
        release_seats(w, &[(booking.id, old_session)], now).await
    } else {
        release_seats(w, &[(booking.id, old_session)], now).await?;
        take_seat(w, new_session, user, now).await?;
        put_in(w, booking.id, new_session).await
    }
}

async fn put_in(w: &mut Writer, booking_id: Uuid, session_id: Uuid) -> Result<(), StoreError> {
    w.execute(
        query(
            "UPDATE bookings SET session_id = $2, \
             session_starts_at = (SELECT starts_at FROM sessions WHERE id = $2) WHERE id = $1",
        )
        .bind(booking_id)
        .bind(session_id),
    )
    .await
    .map_err(on_violation(
        Constraint::BookingsOneLivePerUser,
        StoreError::Refused(Refusal::AlreadyBooked),
    ))?;
    Ok(())
}

/// Marks a pending booking Completed (a cancelled one is [`Refusal::BookingCancelled`]).
pub async fn complete(
    w: &mut Writer,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Changed<Booking>, StoreError> {
    let completed = w.execute(
        query(
            "UPDATE bookings SET status = 'Completed', sequence = sequence + 1, updated_at = $2 \
             WHERE id = $1 AND status = 'Pending'",
        )
        .bind(id)
        .bind(now),
    )
    .await?;
    let booking = existing(w, id).await?;
    if booking.status == BookingStatus::Cancelled {
        return Err(StoreError::Refused(Refusal::BookingCancelled));
    }
    Ok(Changed {
        value: booking,
        changed: completed == 1,
    })
}
