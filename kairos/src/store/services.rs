//! Services: drafts, publishing, edits, withdrawal, and a provider's list with counts.

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use uuid::Uuid;

use super::{
    StoreError,
    backend::{Backend, SqlStore},
    sql::{Conn, query},
};
use crate::domain::{
    refusal::Refusal,
    service::{Service, ServiceSpec, ServiceStatus},
};

/// A provider's service with what it holds.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCounts {
    pub upcoming_sessions: i64,
    pub pending_bookings: i64,
    pub completed_bookings: i64,
    pub cancelled_bookings: i64,
}

/// What withdrawing a service did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withdrawal {
    /// It had bookings: kept as archived, its pending bookings cancelled.
    Archived { cancelled_bookings: u64 },
    /// It had none: gone, with its sessions.
    Deleted,
}

#[async_trait::async_trait]
pub trait ServiceStore: Send + Sync {
    async fn create_service(
        &self,
        id: Uuid,
        provider_id: Uuid,
        spec: ServiceSpec,
        status: ServiceStatus,
        now: DateTime<Utc>,
    ) -> Result<Service, StoreError>;
    async fn service(&self, id: Uuid) -> Result<Option<Service>, StoreError>;
    /// Writes the spec (and, when given, the status) if the service is unchanged since
    /// `expected_updated_at`; else [`Refusal::EditConflict`].
    async fn update_service(
        &self,
        id: Uuid,
        spec: ServiceSpec,
        status: Option<ServiceStatus>,
        expected_updated_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Service, StoreError>;
    async fn withdraw_service(
        &self,
        id: Uuid,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<Withdrawal, StoreError>;
    /// A provider's services, newest first, with their counts.
    async fn provider_services(
        &self,
        provider_id: Uuid,
        after: Option<Uuid>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Service, ServiceCounts)>, StoreError>;
    async fn service_counts(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<ServiceCounts, StoreError>;
}

/// The columns [`ServiceRow`] reads, as a literal so `concat!` can build statements from it.
macro_rules! service_columns {
    () => {
        "id, provider_id, name, description, duration_minutes, capacity, location, time_zone, \
         status, booking_notice_minutes, cancellation_notice_minutes, created_at, updated_at, \
         published_at"
    };
}
pub(crate) use service_columns;

#[derive(sqlx::FromRow)]
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
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
}

impl ServiceRow {
    pub(crate) fn into_service(self) -> Result<Service, StoreError> {
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
            created_at: self.created_at,
            updated_at: self.updated_at,
            published_at: self.published_at,
        })
    }
}

pub(crate) fn services(rows: Vec<ServiceRow>) -> Result<Vec<Service>, StoreError> {
    rows.into_iter().map(ServiceRow::into_service).collect()
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

#[derive(sqlx::FromRow)]
struct ServiceWithCountsRow {
    #[sqlx(flatten)]
    service: ServiceRow,
    #[sqlx(flatten)]
    counts: ServiceCounts,
}

#[async_trait::async_trait]
impl<B: Backend> ServiceStore for SqlStore<B> {
    async fn create_service(
        &self,
        id: Uuid,
        provider_id: Uuid,
        spec: ServiceSpec,
        status: ServiceStatus,
        now: DateTime<Utc>,
    ) -> Result<Service, StoreError> {
        self.backend
            .write(move |c| insert_service(c, id, provider_id, spec, status, now).boxed())
            .await
    }

    async fn service(&self, id: Uuid) -> Result<Option<Service>, StoreError> {
        self.backend
            .read(move |c| service_by_id(c, id).boxed())
            .await
    }

    async fn update_service(
        &self,
        id: Uuid,
        spec: ServiceSpec,
        status: Option<ServiceStatus>,
        expected_updated_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Service, StoreError> {
        self.backend
            .write(move |c| update_service(c, id, spec, status, expected_updated_at, now).boxed())
            .await
    }

    async fn withdraw_service(
        &self,
        id: Uuid,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<Withdrawal, StoreError> {
        self.backend
            .write(move |c| withdraw_service(c, id, reason, now).boxed())
            .await
    }

    async fn provider_services(
        &self,
        provider_id: Uuid,
        after: Option<Uuid>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Service, ServiceCounts)>, StoreError> {
        self.backend
            .read(move |c| provider_services(c, provider_id, after, limit, now).boxed())
            .await
    }

    async fn service_counts(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<ServiceCounts, StoreError> {
        self.backend
            .read(move |c| {
                c.fetch_one::<ServiceCounts>(
                    query(concat!(
                        "SELECT ",
                        counts_columns!(),
                        " FROM services WHERE id = $1"
                    ))
                    .bind(id)
                    .bind(now),
                )
                .boxed()
            })
            .await
    }
}

pub(crate) async fn service_by_id<C: Conn>(
    c: &mut C,
    id: Uuid,
) -> Result<Option<Service>, StoreError> {
    c.fetch_optional::<ServiceRow>(
        query(concat!(
            "SELECT ",
            service_columns!(),
            " FROM services WHERE id = $1"
        ))
        .bind(id),
    )
    .await?
    .map(ServiceRow::into_service)
    .transpose()
}

async fn insert_service<C: Conn>(
    c: &mut C,
    id: Uuid,
    provider_id: Uuid,
    spec: ServiceSpec,
    status: ServiceStatus,
    now: DateTime<Utc>,
) -> Result<Service, StoreError> {
    let published_at = (status == ServiceStatus::Published).then_some(now);
    c.fetch_one::<ServiceRow>(
        query(concat!(
            "INSERT INTO services (id, provider_id, name, description, duration_minutes, \
             capacity, location, time_zone, status, booking_notice_minutes, \
             cancellation_notice_minutes, created_at, updated_at, published_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13) RETURNING ",
            service_columns!()
        ))
        .bind(id)
        .bind(provider_id)
        .bind(spec.name)
        .bind(spec.description)
        .bind(spec.duration_minutes)
        .bind(spec.capacity)
        .bind(spec.location)
        .bind(spec.time_zone)
        .bind(status.as_str())
        .bind(spec.booking_notice_minutes)
        .bind(spec.cancellation_notice_minutes)
        .bind(now)
        .bind(published_at),
    )
    .await?
    .into_service()
}

async fn update_service<C: Conn>(
    c: &mut C,
    id: Uuid,
    spec: ServiceSpec,
    status: Option<ServiceStatus>,
    expected_updated_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Service, StoreError> {
    let publishing = status == Some(ServiceStatus::Published);
    let row = c
        .fetch_optional::<ServiceRow>(
            query(concat!(
                "UPDATE services SET name = $2, description = $3, duration_minutes = $4, \
                 capacity = $5, location = $6, time_zone = $7, booking_notice_minutes = $8, \
                 cancellation_notice_minutes = $9, status = COALESCE($10, status), \
                 published_at = CASE WHEN $11 AND published_at IS NULL THEN $12 \
                                ELSE published_at END, \
                 updated_at = $12 \
                 WHERE id = $1 AND updated_at = $13 AND status <> 'archived' RETURNING ",
                service_columns!()
            ))
            .bind(id)
            .bind(spec.name)
            .bind(spec.description)
            .bind(spec.duration_minutes)
            .bind(spec.capacity)
            .bind(spec.location)
            .bind(spec.time_zone)
            .bind(spec.booking_notice_minutes)
            .bind(spec.cancellation_notice_minutes)
            .bind(status.map(ServiceStatus::as_str))
            .bind(publishing)
            .bind(now)
            .bind(expected_updated_at),
        )
        .await?;
    match row {
        Some(row) => row.into_service(),
        None => match service_by_id(c, id).await? {
            None => Err(StoreError::NotFound),
            Some(current) if current.status == ServiceStatus::Archived => {
                Err(StoreError::Refused(Refusal::ServiceArchived))
            }
            Some(_) => Err(StoreError::Refused(Refusal::EditConflict)),
        },
    }
}

async fn withdraw_service<C: Conn>(
    c: &mut C,
    id: Uuid,
    reason: String,
    now: DateTime<Utc>,
) -> Result<Withdrawal, StoreError> {
    service_by_id(c, id).await?.ok_or(StoreError::NotFound)?;
    let (bookings,): (i64,) = c
        .fetch_one(query("SELECT COUNT(*) FROM bookings WHERE service_id = $1").bind(id))
        .await?;
    if bookings == 0 {
        c.execute(query("DELETE FROM subscriptions WHERE service_id = $1").bind(id))
            .await?;
        c.execute(query("DELETE FROM sessions WHERE service_id = $1").bind(id))
            .await?;
        c.execute(query("DELETE FROM services WHERE id = $1").bind(id))
            .await?;
        return Ok(Withdrawal::Deleted);
    }
    c.execute(
        query("UPDATE services SET status = 'archived', updated_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now),
    )
    .await?;
    // Closing the sessions first means a booking racing with this either committed before (and
    // is cancelled below) or finds its session closed.
    c.execute(
        query(
            "UPDATE sessions SET status = 'cancelled', cancellation_reason = $2, \
             sequence = sequence + 1, updated_at = $3 \
             WHERE service_id = $1 AND status = 'scheduled' AND ends_at > $3",
        )
        .bind(id)
        .bind(reason.clone())
        .bind(now),
    )
    .await?;
    let freed: Vec<(Uuid,)> = c
        .fetch_all(
            query(
                "UPDATE bookings SET status = 'Cancelled', cancellation_reason = $2, \
                 cancelled_by = 'provider', sequence = sequence + 1, updated_at = $3 \
                 WHERE service_id = $1 AND status = 'Pending' AND session_id IN \
                 (SELECT id FROM sessions WHERE service_id = $1 AND ends_at > $3) \
                 RETURNING session_id",
            )
            .bind(id)
            .bind(reason)
            .bind(now),
        )
        .await?;
    let cancelled = freed.len() as u64;
    release_seats(c, freed, now).await?;
    Ok(Withdrawal::Archived {
        cancelled_bookings: cancelled,
    })
}

/// Gives back one seat per cancelled booking, in the session each was for.
pub(crate) async fn release_seats<C: Conn>(
    c: &mut C,
    sessions: Vec<(Uuid,)>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for (session_id,) in sessions {
        c.execute(
            query(
                "UPDATE sessions SET booked = booked - 1, sequence = sequence + 1, \
                 updated_at = $2 WHERE id = $1",
            )
            .bind(session_id)
            .bind(now),
        )
        .await?;
    }
    Ok(())
}

async fn provider_services<C: Conn>(
    c: &mut C,
    provider_id: Uuid,
    after: Option<Uuid>,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<Vec<(Service, ServiceCounts)>, StoreError> {
    let rows: Vec<ServiceWithCountsRow> = c
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
        .map(|row| Ok((row.service.into_service()?, row.counts)))
        .collect()
}
