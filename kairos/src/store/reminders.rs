//! Reminders: one row per booking and offset, due at a known time, so a restart or another
//! instance loses none. A row becomes a message once (`sent`), and never again.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Dialect, Read, StoreError, Writer, query};
use crate::domain::{
    booking::{Booking, BookingStatus},
    notice::reminder_due,
};

/// Makes the booking's pending reminders match it as it now is: none for a booking that is not
/// live; else one per offset whose moment is after `changed_at` (when it was booked or moved),
/// at the booking's current start. Reminders already sent stay sent.
pub async fn sync(
    w: &mut Writer,
    booking: &Booking,
    minutes: &[i64],
    changed_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    w.execute(
        query("DELETE FROM reminders WHERE booking_id = $1 AND state = 'pending'").bind(booking.id),
    )
    .await?;
    if booking.status != BookingStatus::Pending {
        return Ok(());
    }
    let starts_at = booking.session_details.time.start;
    for &m in minutes {
        let Some(due) = reminder_due(starts_at, m, changed_at) else {
            continue;
        };
        w.execute(
            query(
                "INSERT INTO reminders (booking_id, minutes, due_at, state) \
                 VALUES ($1, $2, $3, 'pending') ON CONFLICT (booking_id, minutes) DO NOTHING",
            )
            .bind(booking.id)
            .bind(m)
            .bind(due),
        )
        .await?;
    }
    w.outbox_changed();
    Ok(())
}

/// Takes up to `limit` reminders due by `now`, marking them sent: the caller turns each into a
/// message in the same transaction, so a reminder is queued once or, rolled back, stays due.
pub async fn take_due(
    w: &mut Writer,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<(Uuid, i64)>, StoreError> {
    let text = match w.dialect() {
        Dialect::Sqlite => {
            "UPDATE reminders SET state = 'sent' WHERE (booking_id, minutes) IN \
             (SELECT booking_id, minutes FROM reminders WHERE state = 'pending' \
              AND due_at <= $1 ORDER BY due_at LIMIT $2) \
             RETURNING booking_id, minutes"
        }
        Dialect::Postgres => {
            "UPDATE reminders SET state = 'sent' WHERE (booking_id, minutes) IN \
             (SELECT booking_id, minutes FROM reminders WHERE state = 'pending' \
              AND due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING booking_id, minutes"
        }
    };
    w.fetch_all::<(Uuid, i64)>(query(text).bind(now).bind(limit))
        .await
}

/// When the next pending reminder is due, if any is.
pub async fn next_due(r: &mut impl Read) -> Result<Option<DateTime<Utc>>, StoreError> {
    let (due,): (Option<DateTime<Utc>>,) = r
        .fetch_one(query(
            "SELECT MIN(due_at) FROM reminders WHERE state = 'pending'",
        ))
        .await?;
    Ok(due)
}
