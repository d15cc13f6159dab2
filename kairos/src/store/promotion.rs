//! Promotion: a freed place goes to the first in line of the session's waitlist, in the very
//! transaction that freed it (see `waitlist.rs` for the lock order that makes this safe).

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{
    Read, StoreError, Writer,
    bookings::{self, NewBooking},
    events, query,
    waitlist::{end, spot},
};
use crate::domain::{
    event::{BookingSource, Event},
    session::MAX_SESSION_HOURS,
    waitlist::ListEnd,
};

/// Gives the session's free places to those waiting, first come first served, passing over
/// anyone who holds a live booking at an overlapping time (they keep their place). If the
/// session can no longer be booked, or its service has turned its waitlist off, the list ends.
/// Called with the session's row already locked by the change that freed the places; each
/// promotion is a Pending booking with its `booking.created` event (`source: "waitlist"`),
/// recorded here because this is where, inside that change, it happens.
pub(super) async fn fill(
    w: &mut Writer,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let spot = spot(w, session_id).await?;
    if !spot.waitlist_enabled {
        return end(w, session_id, ListEnd::WaitlistClosed, now).await;
    }
    if let Err(closed) = spot.target.bookable()?.check_open(now) {
        return end(w, session_id, ListEnd::of_closed(&closed), now).await;
    }
    let free = spot.capacity - spot.booked;
    if free <= 0 {
        return Ok(());
    }
    let target = &spot.target;
    let mut promoted = Vec::new();
    for _ in 0..free {
        let Some(user_id) = take_next(w, session_id, target.starts_at, spot.place.ends_at).await?
        else {
            break;
        };
        let new = NewBooking {
            id: crate::domain::id::new_id(),
            user_id,
            session_id,
            notes: None,
            now,
        };
        bookings::insert(w, target, &new).await?;
        let booking = spot.place.booking(target, new)?;
        bookings::subscribe(w, user_id, target.service_id, now).await?;
        promoted.push(booking);
    }
    if promoted.is_empty() {
        return Ok(());
    }
    let count = promoted.len() as i64;
    w.execute(
        query(
            "UPDATE sessions SET booked = booked + $2, waiting = waiting - $2, \
             sequence = sequence + 1, updated_at = $3 WHERE id = $1",
        )
        .bind(session_id)
        .bind(count)
        .bind(now),
    )
    .await?;
    for booking in &promoted {
        events::record(
            w,
            Event::booking_created(booking, BookingSource::Waitlist, now),
        );
    }
    Ok(())
}

/// Takes the first in line who holds no live booking overlapping `starts_at..ends_at` off the
/// list, and answers who that was (`None`: no one left who can take the place).
///
/// One place at a time, with a constant `LIMIT 1`: with the number of places as a parameter,
/// PostgreSQL's generic plan guessed a tenth of the list would be read and hashed every
/// booking in the window, so it planned the statement afresh at each call (0.6 ms, more than
/// the promotion's every other statement together); this shape has one cheap generic plan.
async fn take_next(
    w: &mut Writer,
    session_id: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Result<Option<Uuid>, StoreError> {
    // A booking that overlaps the session starts at most a session's longest length before
    // it, so the check reads only that window of the customer's index: someone waiting on
    // many lists and promoted from each holds many bookings, and the check read every one.
    let taken: Option<(Uuid,)> = w
        .fetch_optional(
            query(
                "DELETE FROM waitlist_entries WHERE session_id = $1 AND seq = (\
                 SELECT e.seq FROM waitlist_entries e WHERE e.session_id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM bookings b JOIN sessions o ON o.id = b.session_id \
                    WHERE b.user_id = e.user_id AND b.status IN ('Pending', 'Completed') \
                    AND b.session_starts_at >= $4 AND b.session_starts_at < $3 \
                    AND o.ends_at > $2) \
                 ORDER BY e.seq LIMIT 1) \
                 RETURNING user_id",
            )
            .bind(session_id)
            .bind(starts_at)
            .bind(ends_at)
            .bind(starts_at - Duration::hours(MAX_SESSION_HOURS)),
        )
        .await?;
    Ok(taken.map(|(user_id,)| user_id))
}
