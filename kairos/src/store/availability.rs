//! Working hours in the database: a service's rule, and the ordinary sessions it made (marked
//! `generated`, one per start: a unique index makes a second instance's copy a no-op).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Read, StoreError, Writer, query,
    query::{MAX_REPEATS, Repeated, repeated_texts},
    record, sessions,
};
use crate::domain::{id::new_id, session::Session};

/// What a change of working hours did to the sessions.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    pub created: u64,
    pub removed: u64,
    /// Sessions that no longer fit the rule but hold live bookings, so they stay.
    pub kept: Vec<Session>,
}

/// The sessions a rule makes: their times, and what each is given from the service.
#[derive(Debug, Clone)]
pub struct Slots {
    pub times: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub capacity: i64,
    pub location: String,
    /// The last local date the times reach (`YYYY-MM-DD`).
    pub until: String,
}

record! {
    /// A stored rule, with what extending it needs to know of its service.
    #[derive(Debug, Clone)]
    pub struct StoredRule {
        pub service_id: Uuid,
        pub rule: String,
        pub generated_until: String,
        pub time_zone: String,
        pub capacity: i64,
        pub location: String,
    }
}

macro_rules! stored {
    () => {
        "SELECT r.service_id, r.rule, r.generated_until, svc.time_zone, svc.capacity, \
         svc.location FROM availability_rules r JOIN services svc ON svc.id = r.service_id"
    };
}

pub async fn rule(r: &mut impl Read, service_id: Uuid) -> Result<Option<StoredRule>, StoreError> {
    r.fetch_optional(query(concat!(stored!(), " WHERE r.service_id = $1")).bind(service_id))
        .await
}

/// The rules of services that are not archived: the housekeeping pass extends them.
pub async fn live_rules(r: &mut impl Read) -> Result<Vec<StoredRule>, StoreError> {
    r.fetch_all(query(concat!(stored!(), " WHERE svc.status <> 'archived'")))
        .await
}

/// Stores the rule and makes its sessions: times not made yet are added; future sessions the
/// rule made before that are not among the times go, unless they hold live bookings (kept).
pub async fn put(
    w: &mut Writer,
    service_id: Uuid,
    rule: String,
    slots: Slots,
    now: DateTime<Utc>,
) -> Result<Generated, StoreError> {
    w.execute(
        query(
            "INSERT INTO availability_rules (service_id, rule, generated_until, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (service_id) DO UPDATE SET rule = $2, \
             generated_until = $3, updated_at = $4",
        )
        .bind(service_id)
        .bind(rule)
        .bind(slots.until.clone())
        .bind(now),
    )
    .await?;
    let wanted: HashSet<DateTime<Utc>> = slots.times.iter().map(|(start, _)| *start).collect();
    let mut generated = take_away(w, service_id, now, |start| !wanted.contains(&start)).await?;
    generated.created = add(w, service_id, &slots, now).await?;
    Ok(generated)
}

/// Adds the times a rule reaches as days pass (the housekeeping pass), and moves its mark on.
/// Answers how many sessions it made (none that another instance made first).
pub async fn extend(
    w: &mut Writer,
    service_id: Uuid,
    slots: Slots,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let created = add(w, service_id, &slots, now).await?;
    w.execute(
        query(
            "UPDATE availability_rules SET generated_until = $2 \
             WHERE service_id = $1 AND generated_until < $2",
        )
        .bind(service_id)
        .bind(slots.until),
    )
    .await?;
    Ok(created)
}

/// Removes the rule, and the future sessions it made that hold no live booking.
pub async fn remove(
    w: &mut Writer,
    service_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Generated, StoreError> {
    let removed = w
        .execute(query("DELETE FROM availability_rules WHERE service_id = $1").bind(service_id))
        .await?;
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    take_away(w, service_id, now, |_| true).await
}

static INSERT: Repeated = Repeated::new(|| {
    repeated_texts(
        "INSERT INTO sessions (id, service_id, starts_at, ends_at, location, capacity, booked, \
         additional_information, status, sequence, created_at, updated_at, generated) VALUES ",
        "({}, {}, {}, {}, {}, {}, 0, '[]', 'scheduled', 0, {}, {}, TRUE)",
        ", ",
        " ON CONFLICT (service_id, starts_at) WHERE generated DO NOTHING",
        1,
    )
});

/// Adds the sessions of the times still to come, many to a statement; a time made already is
/// left as it is.
async fn add(
    w: &mut Writer,
    service_id: Uuid,
    slots: &Slots,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let future: Vec<_> = slots
        .times
        .iter()
        .filter(|(start, _)| *start > now)
        .collect();
    let mut created = 0;
    for chunk in future.chunks(MAX_REPEATS) {
        let mut insert = INSERT.query(chunk.len());
        for (start, end) in chunk {
            insert = insert
                .bind(new_id())
                .bind(service_id)
                .bind(*start)
                .bind(*end)
                .bind(slots.location.clone())
                .bind(slots.capacity)
                .bind(now)
                .bind(now);
        }
        created += w.execute(insert).await?;
    }
    Ok(created)
}

/// Takes away the future sessions the rule made whose start `goes` says: one that never had a
/// booking is deleted, one whose bookings were all cancelled is cancelled, one with a live
/// booking is kept and listed.
async fn take_away(
    w: &mut Writer,
    service_id: Uuid,
    now: DateTime<Utc>,
    goes: impl Fn(DateTime<Utc>) -> bool,
) -> Result<Generated, StoreError> {
    let made: Vec<(Uuid, DateTime<Utc>, i64)> = w
        .fetch_all(
            query(
                "SELECT id, starts_at, booked FROM sessions WHERE service_id = $1 AND generated \
                 AND status = 'scheduled' AND starts_at > $2 ORDER BY starts_at",
            )
            .bind(service_id)
            .bind(now),
        )
        .await?;
    let mut generated = Generated::default();
    for (id, _, booked) in made.into_iter().filter(|(_, start, _)| goes(*start)) {
        if booked == 0 && gone(w, id, now).await? {
            generated.removed += 1;
        } else if let Some(session) = sessions::by_id(w, id).await? {
            // A live booking holds it (perhaps one taken since the read above): it stays.
            generated.kept.push(session);
        }
    }
    Ok(generated)
}

/// Deletes a session that never had a booking, or cancels one whose bookings were all
/// cancelled; answers false, changing nothing, if a place in it is taken.
async fn gone(w: &mut Writer, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let deleted = w
        .execute(
            query(
                "DELETE FROM sessions WHERE id = $1 AND booked = 0 \
                 AND NOT EXISTS (SELECT 1 FROM bookings WHERE session_id = $1)",
            )
            .bind(id),
        )
        .await?;
    if deleted > 0 {
        return Ok(true);
    }
    let cancelled = w
        .execute(
            query(
                "UPDATE sessions SET status = 'cancelled', \
                 cancellation_reason = 'No longer in the working hours', \
                 sequence = sequence + 1, updated_at = $2 WHERE id = $1 AND booked = 0",
            )
            .bind(id)
            .bind(now),
        )
        .await?;
    Ok(cancelled > 0)
}
