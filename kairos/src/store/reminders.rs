//! Reminders: one row per booking and offset, due at a known time, so a restart or another
//! instance loses none. A row becomes a message once (`sent`), and never again.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Dialect, Read, StoreError, Writer, query,
    query::{MAX_REPEATS, Repeated, repeated_texts},
};

/// The reminders one booking should have pending now: its offsets in minutes, each with when
/// it is due.
#[derive(Debug, Clone)]
pub struct ReminderPlan {
    pub booking_id: Uuid,
    pub due: Vec<(i64, DateTime<Utc>)>,
}

static FORGET_PENDING: Repeated = Repeated::new(|| {
    repeated_texts(
        "DELETE FROM reminders WHERE state = 'pending' AND booking_id IN (",
        "{}",
        ", ",
        ")",
        1,
    )
});

static ADD_PENDING: Repeated = Repeated::new(|| {
    repeated_texts(
        "INSERT INTO reminders (booking_id, minutes, due_at, state) VALUES ",
        "({}, {}, {}, 'pending')",
        ", ",
        " ON CONFLICT (booking_id, minutes) DO NOTHING",
        1,
    )
});

/// Makes each booking's pending reminders the plan's: those not in it go, those in it are
/// (re)written with their due time. A reminder already sent stays sent and is not sent again.
pub async fn sync(w: &mut Writer, plans: &[ReminderPlan]) -> Result<(), StoreError> {
    let bookings: Vec<Uuid> = plans.iter().map(|p| p.booking_id).collect();
    for chunk in bookings.chunks(MAX_REPEATS) {
        let forget = chunk
            .iter()
            .fold(FORGET_PENDING.query(chunk.len()), |q, id| q.bind(*id));
        w.execute(forget).await?;
    }
    let rows: Vec<(Uuid, i64, DateTime<Utc>)> = plans
        .iter()
        .flat_map(|p| p.due.iter().map(|&(m, at)| (p.booking_id, m, at)))
        .collect();
    for chunk in rows.chunks(MAX_REPEATS) {
        let add = chunk.iter().fold(
            ADD_PENDING.query(chunk.len()),
            |q, &(booking, minutes, due)| q.bind(booking).bind(minutes).bind(due),
        );
        w.execute(add).await?;
    }
    if !rows.is_empty() {
        w.outbox_changed();
    }
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

/// Drops a reminder taken for a booking that is no longer live (cancelled after the reminder
/// fell due, before its cancellation was dispatched): it is owed to no one.
pub async fn forget(w: &mut Writer, booking_id: Uuid, minutes: i64) -> Result<(), StoreError> {
    w.execute(
        query("DELETE FROM reminders WHERE booking_id = $1 AND minutes = $2")
            .bind(booking_id)
            .bind(minutes),
    )
    .await
    .map(drop)
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
