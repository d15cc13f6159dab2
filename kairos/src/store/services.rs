//! Services: drafts, publishing, edits, withdrawal, and a provider's list with counts.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Query, Read, Row, StoreError, Writer,
    booking_rows::reread_all,
    query,
    query::{Repeated, repeated_texts},
    record::{reads, record},
};
use crate::domain::{
    booking::Booking,
    refusal::Refusal,
    service::{Service, ServiceCounts, ServiceSpec, ServiceStatus},
    session::Session,
    waitlist::ListEnd,
};

/// What withdrawing a service did.
#[derive(Debug, Clone)]
pub enum Withdrawal {
    /// It had bookings: kept as archived, its future sessions and their pending bookings
    /// cancelled (as they now are).
    Archived {
        service: Box<Service>,
        sessions: Vec<Session>,
        bookings: Vec<Booking>,
    },
    /// It had none: gone, with its sessions.
    Deleted,
}

/// The columns [`ServiceRow`] reads, as a literal so `concat!` can build statements from it.
macro_rules! service_columns {
    () => {
        "id, provider_id, name, description, duration_minutes, capacity, location, time_zone, \
         status, booking_notice_minutes, cancellation_notice_minutes, reminder_minutes, \
         waitlist_enabled, created_at, updated_at, published_at"
    };
}
pub(crate) use service_columns;

record! {
    pub(crate) struct ServiceRow {
        id: Uuid,
        provider_id: Uuid,
        name: String,
        description: String,
        duration_minutes: i64,
        capacity: i64,
        location: String,
        time_zone: String,
        status: String,
        booking_notice_minutes: i64,
        cancellation_notice_minutes: i64,
        /// A JSON array of minutes.
        reminder_minutes: String,
        waitlist_enabled: bool,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        published_at: Option<DateTime<Utc>>,
    }
}

impl Row for ServiceRow {
    type Value = Service;

    fn value(self) -> Result<Service, StoreError> {
        let status = ServiceStatus::parse(&self.status)
            .ok_or_else(|| super::corrupt(&format!("service status `{}`", self.status)))?;
        Ok(Service {
            id: self.id,
            provider_id: self.provider_id,
            name: self.name,
            description: self.description,
            duration_minutes: self.duration_minutes,
            capacity: self.capacity,
            location: self.location,
            time_zone: self.time_zone,
            status,
            booking_notice_minutes: self.booking_notice_minutes,
            cancellation_notice_minutes: self.cancellation_notice_minutes,
            reminder_minutes: serde_json::from_str(&self.reminder_minutes)
                .map_err(|_| super::corrupt("reminder minutes"))?,
            waitlist_enabled: self.waitlist_enabled,
            created_at: self.created_at,
            updated_at: self.updated_at,
            published_at: self.published_at,
        })
    }
}

/// What [`ServiceCounts`] reads for the service in `services`, with `$2` the current time.
macro_rules! counts_columns {
    () => {
        "(SELECT COUNT(*) FROM sessions s WHERE s.service_id = services.id \
            AND s.status = 'scheduled' AND s.starts_at > $2) AS upcoming_sessions, \
         (SELECT COUNT(*) FROM bookings b WHERE b.service_id = services.id \
            AND b.status = 'Pending') AS pending_bookings, \
         (SELECT COUNT(*) FROM bookings b WHERE b.service_id = services.id \
            AND b.status = 'Completed') AS completed_bookings, \
         (SELECT COUNT(*) FROM bookings b WHERE b.service_id = services.id \
            AND b.status = 'Cancelled') AS cancelled_bookings"
    };
}

// The domain's type, so how it is read is declared here.
reads!(ServiceCounts {
    upcoming_sessions: i64,
    pending_bookings: i64,
    completed_bookings: i64,
    cancelled_bookings: i64,
});

record! {
    struct ServiceWithCountsRow {
        service: ServiceRow,
        counts: ServiceCounts,
    }
}

/// What a service holds, counted now.
pub async fn counts(
    r: &mut impl Read,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<ServiceCounts, StoreError> {
    r.fetch_one::<ServiceCounts>(
        query(concat!(
            "SELECT ",
            counts_columns!(),
            " FROM services WHERE id = $1"
        ))
        .bind(id)
        .bind(now),
    )
    .await
}

#[rustfmt::skip]
const BY_ID: &str = concat!("SELECT ", service_columns!(), " FROM services WHERE id = $1");

pub async fn by_id(r: &mut impl Read, id: Uuid) -> Result<Option<Service>, StoreError> {
    r.fetch_value::<ServiceRow>(query(BY_ID).bind(id)).await
}

static BY_IDS: Repeated = Repeated::new(|| {
    repeated_texts(
        concat!(
            "SELECT ",
            service_columns!(),
            " FROM services WHERE id IN ("
        ),
        "{}",
        ", ",
        ")",
        1,
    )
});

/// The services with these ids (those that exist), in no particular order.
pub async fn by_ids(r: &mut impl Read, ids: &[Uuid]) -> Result<Vec<Service>, StoreError> {
    r.fetch_for_ids::<ServiceRow>(&BY_IDS, ids).await
}

pub async fn insert(
    w: &mut Writer,
    id: Uuid,
    provider_id: Uuid,
    spec: ServiceSpec,
    status: ServiceStatus,
    now: DateTime<Utc>,
) -> Result<Service, StoreError> {
    let published_at = (status == ServiceStatus::Published).then_some(now);
    let insert = query(concat!(
        "INSERT INTO services (id, provider_id, name, description, duration_minutes, capacity, \
         location, time_zone, booking_notice_minutes, cancellation_notice_minutes, \
         reminder_minutes, waitlist_enabled, status, created_at, updated_at, published_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15) \
         RETURNING ",
        service_columns!()
    ))
    .bind(id)
    .bind(provider_id);
    let insert = with_spec(insert, spec)
        .bind(status.as_str())
        .bind(now)
        .bind(published_at);
    w.fetch_one::<ServiceRow>(insert).await?.value()
}

/// Binds a spec's fields in the order the statements name them: name, description, duration,
/// capacity, location, time zone, booking notice, cancellation notice, reminders, waitlist.
fn with_spec(query: Query, spec: ServiceSpec) -> Query {
    let reminders = minutes_json(&spec.reminder_minutes);
    query
        .bind(spec.name)
        .bind(spec.description)
        .bind(spec.duration_minutes)
        .bind(spec.capacity)
        .bind(spec.location)
        .bind(spec.time_zone)
        .bind(spec.booking_notice_minutes)
        .bind(spec.cancellation_notice_minutes)
        .bind(reminders)
        .bind(spec.waitlist_enabled)
}

fn minutes_json(minutes: &[i64]) -> String {
    let listed: Vec<String> = minutes.iter().map(i64::to_string).collect();
    format!("[{}]", listed.join(","))
}

/// Writes the spec (and, when given, the status) if the service is unchanged since
/// `expected_updated_at`; else [`Refusal::EditConflict`].
pub async fn update(
    w: &mut Writer,
    id: Uuid,
    spec: ServiceSpec,
    status: Option<ServiceStatus>,
    expected_updated_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Service, StoreError> {
    let publishing = status == Some(ServiceStatus::Published);
    let update = query(concat!(
        "UPDATE services SET name = $2, description = $3, duration_minutes = $4, \
         capacity = $5, location = $6, time_zone = $7, booking_notice_minutes = $8, \
         cancellation_notice_minutes = $9, reminder_minutes = $10, waitlist_enabled = $11, \
         status = COALESCE($12, status), \
         published_at = CASE WHEN $13 AND published_at IS NULL THEN $14 \
                        ELSE published_at END, \
         updated_at = $14 \
         WHERE id = $1 AND updated_at = $15 AND status <> 'archived' RETURNING ",
        service_columns!()
    ))
    .bind(id);
    let update = with_spec(update, spec)
        .bind(status.map(ServiceStatus::as_str))
        .bind(publishing)
        .bind(now)
        .bind(expected_updated_at);
    let row = w.fetch_optional::<ServiceRow>(update).await?;
    match row {
        Some(row) => {
            let service = row.value()?;
            if !service.waitlist_enabled {
                super::waitlist::end_of_service(w, id, ListEnd::WaitlistClosed, now).await?;
            }
            Ok(service)
        }
        None => match by_id(w, id).await? {
            None => Err(StoreError::NotFound),
            Some(current) if current.status == ServiceStatus::Archived => {
                Err(StoreError::Refused(Refusal::ServiceArchived))
            }
            Some(_) => Err(StoreError::Refused(Refusal::EditConflict)),
        },
    }
}

/// Deletes a service that never had bookings; archives one that had, cancelling its future
/// sessions and their pending bookings with the reason.
pub async fn withdraw(
    w: &mut Writer,
    id: Uuid,
    reason: String,
    now: DateTime<Utc>,
) -> Result<Withdrawal, StoreError> {
    by_id(w, id).await?.ok_or(StoreError::NotFound)?;
    let (bookings,): (i64,) = w
        .fetch_one(query("SELECT COUNT(*) FROM bookings WHERE service_id = $1").bind(id))
        .await?;
    if bookings == 0 {
        super::waitlist::end_of_service(w, id, ListEnd::SessionCancelled, now).await?;
        w.execute(query("DELETE FROM availability_rules WHERE service_id = $1").bind(id))
            .await?;
        w.execute(query("DELETE FROM subscriptions WHERE service_id = $1").bind(id))
            .await?;
        w.execute(query("DELETE FROM sessions WHERE service_id = $1").bind(id))
            .await?;
        w.execute(query("DELETE FROM services WHERE id = $1").bind(id))
            .await?;
        return Ok(Withdrawal::Deleted);
    }
    let service = w
        .fetch_one::<ServiceRow>(
            query(concat!(
                "UPDATE services SET status = 'archived', updated_at = $2 WHERE id = $1 \
                 RETURNING ",
                service_columns!()
            ))
            .bind(id)
            .bind(now),
        )
        .await?
        .value()?;
    // Closing the sessions first means a booking racing with this either committed before (and
    // is cancelled below) or finds its session closed.
    super::sessions::lock_bookings_first(w, super::sessions::BookingsOf::Service(id, now)).await?;
    let closed: Vec<(Uuid,)> = w
        .fetch_all(
            query(
                "UPDATE sessions SET status = 'cancelled', cancellation_reason = $2, \
                 sequence = sequence + 1, updated_at = $3 \
                 WHERE service_id = $1 AND status = 'scheduled' AND ends_at > $3 RETURNING id",
            )
            .bind(id)
            .bind(reason.clone())
            .bind(now),
        )
        .await?;
    let freed: Vec<(Uuid, Uuid)> = w
        .fetch_all(
            query(
                "UPDATE bookings SET status = 'Cancelled', cancellation_reason = $2, \
                 cancelled_by = 'provider', sequence = sequence + 1, updated_at = $3 \
                 WHERE service_id = $1 AND status = 'Pending' AND session_id IN \
                 (SELECT id FROM sessions WHERE service_id = $1 AND ends_at > $3) \
                 RETURNING id, session_id",
            )
            .bind(id)
            .bind(reason)
            .bind(now),
        )
        .await?;
    release_seats(w, &freed, now).await?;
    let mut sessions = Vec::with_capacity(closed.len());
    for (session_id,) in closed {
        sessions.push(
            super::sessions::by_id(w, session_id)
                .await?
                .ok_or_else(|| {
                    StoreError::missing(format!("session {session_id}, just cancelled"))
                })?,
        );
    }
    let bookings = reread_all(w, freed.into_iter().map(|(booking, _)| booking)).await?;
    Ok(Withdrawal::Archived {
        service: Box::new(service),
        sessions,
        bookings,
    })
}

/// Gives back one seat per cancelled booking, in the session each was for (`freed` holds
/// (booking, session) pairs, as the cancelling statements return them), and fills it from the
/// session's waitlist at once, before anyone else can take it.
pub(crate) async fn release_seats(
    w: &mut Writer,
    freed: &[(Uuid, Uuid)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for &(_, session_id) in freed {
        let (waiting,): (i64,) = w
            .fetch_one(
                query(
                    "UPDATE sessions SET booked = booked - 1, sequence = sequence + 1, \
                     updated_at = $2 WHERE id = $1 RETURNING waiting",
                )
                .bind(session_id)
                .bind(now),
            )
            .await?;
        if waiting > 0 {
            super::promotion::fill(w, session_id, now).await?;
        }
    }
    Ok(())
}

/// A provider's services, newest first, with their counts.
pub async fn of_provider(
    r: &mut impl Read,
    provider_id: Uuid,
    after: Option<Uuid>,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<Vec<(Service, ServiceCounts)>, StoreError> {
    let rows: Vec<ServiceWithCountsRow> = r
        .fetch_all(
            query(concat!(
                "SELECT ",
                service_columns!(),
                ", ",
                counts_columns!(),
                " FROM services WHERE provider_id = $1 AND ($3 IS NULL OR id < $3) \
                 ORDER BY id DESC LIMIT $4"
            ))
            .bind(provider_id)
            .bind(now)
            .bind(after)
            .bind(limit),
        )
        .await?;
    rows.into_iter()
        .map(|row| Ok((row.service.value()?, row.counts)))
        .collect()
}
