//! The waitlist: joining and leaving a full session's list, and ending lists (filling freed
//! places from it is `promotion.rs`).
//!
//! Locks keep the order `bookings.rs` states, and one more rule: a session's row is locked
//! before any entry of its list or any new booking of it is written. Joining changes the
//! session's `waiting` only while it is full, so a join and a freed place are ordered by that
//! row: either the join commits first and the freed place goes to the list, or the place is
//! free when the join looks and the join is refused (`session_not_full`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Constraint, Read, StoreError, Writer,
    bookings::{self, Place, Target, place_columns, target_columns},
    events, on_violation, query, record,
};
use crate::domain::{
    booking::check_bookable,
    event::{EndedEntry, Event},
    page::{Page, TimeCursor, time_cursor},
    refusal::Refusal,
    waitlist::{ListEnd, WaitlistEntry},
};

#[derive(Debug, Clone)]
pub struct NewEntry {
    pub id: Uuid,
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub now: DateTime<Utc>,
}

record! {
    /// What serving a session's list needs: the booking rules' inputs, the time it takes, and
    /// its places.
    pub(super) struct Spot {
        pub(super) target: Target,
        pub(super) place: Place,
        pub(super) capacity: i64,
        pub(super) booked: i64,
        pub(super) waitlist_enabled: bool,
    }
}

pub(super) async fn spot(w: &mut Writer, session_id: Uuid) -> Result<Spot, StoreError> {
    w.fetch_optional::<Spot>(
        query(concat!(
            "SELECT ",
            target_columns!(),
            ", ",
            place_columns!(),
            ", s.capacity, s.booked, svc.waitlist_enabled \
                 FROM sessions s JOIN services svc ON svc.id = s.service_id WHERE s.id = $1"
        ))
        .bind(session_id),
    )
    .await?
    .ok_or(StoreError::NotFound)
}

/// Puts the user at the end of a full session's list, or refuses: the booking rules, then
/// `waitlist_disabled`, `session_not_full`, `already_booked`, `already_waiting`.
pub async fn join(w: &mut Writer, new: NewEntry) -> Result<WaitlistEntry, StoreError> {
    let spot = spot(w, new.session_id).await?;
    let target = &spot.target;
    check_bookable(&target.bookable()?, new.user_id, new.now).map_err(StoreError::Refused)?;
    if !spot.waitlist_enabled {
        return Err(StoreError::Refused(Refusal::WaitlistDisabled));
    }
    // Takes the session's row: from here on no place frees up unseen.
    let full = w
        .execute(
            query(
                "UPDATE sessions SET waiting = waiting + 1 \
                 WHERE id = $1 AND booked >= capacity AND status = 'scheduled'",
            )
            .bind(new.session_id),
        )
        .await?;
    if bookings::holds_live(w, new.session_id, new.user_id).await? {
        return Err(StoreError::Refused(Refusal::AlreadyBooked));
    }
    if full == 0 {
        return Err(StoreError::Refused(Refusal::SessionNotFull));
    }
    w.execute(
        query(
            "INSERT INTO waitlist_entries (id, session_id, service_id, user_id, seq, created_at) \
             VALUES ($1, $2, $3, $4, \
             (SELECT COALESCE(MAX(seq), 0) + 1 FROM waitlist_entries WHERE session_id = $2), $5)",
        )
        .bind(new.id)
        .bind(new.session_id)
        .bind(target.service_id)
        .bind(new.user_id)
        .bind(new.now),
    )
    .await
    .map_err(on_violation(
        Constraint::WaitlistOnePerUser,
        StoreError::Refused(Refusal::AlreadyWaiting),
    ))?;
    // By its owner, as everywhere an entry is named: on SQLite the id has no index of its own
    // (the table is the list's order), the (user, session) index finds it.
    w.fetch_one::<EntryRow>(
        query(concat!(
            entry_select!(),
            " WHERE e.user_id = $1 AND e.session_id = $2"
        ))
        .bind(new.user_id)
        .bind(new.session_id),
    )
    .await
    .map(EntryRow::entry)
}

/// An entry with its position (counted, never stored, unless `$position` says how) and what it
/// waits for.
macro_rules! entry_select {
    () => {
        entry_select!(
            "(SELECT COUNT(*) FROM waitlist_entries o \
              WHERE o.session_id = e.session_id AND o.seq <= e.seq)"
        )
    };
    ($position:literal) => {
        concat!(
            "SELECT e.id, e.user_id, e.session_id, e.created_at, ",
            $position,
            " AS position, ",
            target_columns!(),
            ", ",
            place_columns!(),
            " FROM waitlist_entries e JOIN sessions s ON s.id = e.session_id \
             JOIN services svc ON svc.id = s.service_id"
        )
    };
}
use entry_select;

record! {
    struct EntryRow {
        id: Uuid,
        user_id: Uuid,
        session_id: Uuid,
        position: i64,
        created_at: DateTime<Utc>,
        target: Target,
        place: Place,
    }
}

impl EntryRow {
    fn entry(self) -> WaitlistEntry {
        WaitlistEntry {
            id: self.id,
            user_id: self.user_id,
            session_id: self.session_id,
            service_id: self.target.service_id,
            position: self.position,
            created_at: self.created_at,
            starts_at: self.target.starts_at,
            ends_at: self.place.ends_at,
            service_name: self.place.service_name,
            time_zone: self.place.time_zone,
        }
    }
}

/// A page of the user's places in lists that are still served (their sessions can still be
/// booked), soonest session first, after the cursor; and the cursor of the next page.
pub async fn of_user(
    r: &mut impl Read,
    user_id: Uuid,
    after: Option<TimeCursor>,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<Page<WaitlistEntry>, StoreError> {
    let (after_start, after_id) = after.unzip();
    let mut rows: Vec<EntryRow> = r
        .fetch_all(
            query(concat!(
                entry_select!(),
                " WHERE e.user_id = $1 AND s.starts_at > $2 \
                     AND ($3 IS NULL OR s.starts_at > $3 OR (s.starts_at = $3 AND e.id > $4)) \
                     ORDER BY s.starts_at, e.id LIMIT $5"
            ))
            .bind(user_id)
            .bind(now)
            .bind(after_start)
            .bind(after_id)
            .bind(limit + 1),
        )
        .await?;
    // The next page goes on from the last row read, shown or not: a list that has closed
    // (inside the booking notice, until the housekeeping pass ends it) is not shown.
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|row| time_cursor(row.target.starts_at, row.id))
    } else {
        None
    };
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        if row.target.bookable()?.check_open(now).is_ok() {
            items.push(row.entry());
        }
    }
    Ok(Page { items, next })
}

/// Takes the user's entry off its list. Not theirs, or gone (promoted, or the list ended):
/// [`StoreError::NotFound`].
pub async fn leave(w: &mut Writer, user_id: Uuid, entry_id: Uuid) -> Result<(), StoreError> {
    let (session_id,): (Uuid,) = w
        .fetch_optional(
            query("SELECT session_id FROM waitlist_entries WHERE id = $1 AND user_id = $2")
                .bind(entry_id)
                .bind(user_id),
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    // The session's row first, as everywhere; then the entry, read again under that lock.
    w.execute(
        query(
            "UPDATE sessions SET waiting = CASE WHEN waiting > 0 THEN waiting - 1 ELSE 0 END \
             WHERE id = $1",
        )
        .bind(session_id),
    )
    .await?;
    let left = w
        .execute(
            query(
                "DELETE FROM waitlist_entries WHERE user_id = $1 AND session_id = $2 AND id = $3",
            )
            .bind(user_id)
            .bind(session_id)
            .bind(entry_id),
        )
        .await?;
    // Promoted or ended meanwhile: the error undoes the count above with everything else.
    if left == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Takes the user off the session's list once they hold a place in it; `waiting` is what the
/// session's row said, so a session no one waits for costs no statement.
pub(super) async fn forget_booked(
    w: &mut Writer,
    session_id: Uuid,
    user_id: Uuid,
    waiting: i64,
) -> Result<(), StoreError> {
    if waiting == 0 {
        return Ok(());
    }
    let left = w
        .execute(
            query("DELETE FROM waitlist_entries WHERE session_id = $1 AND user_id = $2")
                .bind(session_id)
                .bind(user_id),
        )
        .await?;
    if left > 0 {
        w.execute(
            query("UPDATE sessions SET waiting = waiting - 1 WHERE id = $1").bind(session_id),
        )
        .await?;
    }
    Ok(())
}

/// Ends a session's list: no one waits any more, and each of those who did hears why
/// (`waitlist.ended`, with their entry as it stood).
pub(super) async fn end(
    w: &mut Writer,
    session_id: Uuid,
    why: ListEnd,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    // The session's row first (the lock order above), so no one joins between the read and
    // the delete without being told.
    w.execute(
        query("UPDATE sessions SET waiting = 0 WHERE id = $1 AND waiting > 0").bind(session_id),
    )
    .await?;
    // Each one's position numbered along the list in one pass (counting it per entry, as a
    // single entry's read does, would read the list once per entry).
    let rows: Vec<EntryRow> = w
        .fetch_all(
            query(concat!(
                entry_select!("ROW_NUMBER() OVER (ORDER BY e.seq)"),
                " WHERE e.session_id = $1 ORDER BY e.seq"
            ))
            .bind(session_id),
        )
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    w.execute(query("DELETE FROM waitlist_entries WHERE session_id = $1").bind(session_id))
        .await?;
    for row in rows {
        let provider_id = row.target.provider_id;
        let ended = EndedEntry {
            entry: row.entry(),
            reason: why,
        };
        events::record(w, Event::waitlist_ended(&ended, provider_id, now));
    }
    Ok(())
}

/// Ends the lists of a service's sessions (its waitlist was turned off, or it is withdrawn),
/// session by session on the list's own index: no index has entries by service, and looking
/// for them that way read every entry of every list while SQLite's one writer waited.
pub(super) async fn end_of_service(
    w: &mut Writer,
    service_id: Uuid,
    why: ListEnd,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    // Sessions in id order, the lock order of every change to several sessions (`bookings.rs`).
    let waited_for: Vec<(Uuid,)> = w
        .fetch_all(
            query("SELECT id FROM sessions WHERE service_id = $1 AND waiting > 0 ORDER BY id")
                .bind(service_id),
        )
        .await?;
    for (session_id,) in waited_for {
        end(w, session_id, why, now).await?;
    }
    Ok(())
}

/// Ends the lists of sessions that can no longer be booked (started, or inside the booking
/// notice): the housekeeping pass. Answers how many lists it ended.
pub async fn end_closed(w: &mut Writer, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let waited_for: Vec<(Uuid, Target)> = w
        .fetch_all::<WaitedFor>(query(concat!(
            "SELECT s.id, ",
            target_columns!(),
            " FROM sessions s JOIN services svc ON svc.id = s.service_id WHERE s.waiting > 0"
        )))
        .await?
        .into_iter()
        .map(|row| (row.id, row.target))
        .collect();
    let mut ended = 0;
    for (session_id, target) in waited_for {
        if let Err(closed) = target.bookable()?.check_open(now) {
            end(w, session_id, ListEnd::of_closed(&closed), now).await?;
            ended += 1;
        }
    }
    Ok(ended)
}

record! {
    struct WaitedFor {
        id: Uuid,
        target: Target,
    }
}
