//! Lists of bookings: current, all (filtered), counts by status, and a customer's schedule.

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use uuid::Uuid;

use super::{
    StoreError,
    backend::{Backend, SqlStore},
    bookings::{BookingRow, booking_select},
    sql::{Conn, query},
};
use crate::domain::booking::{Booking, BookingCounts, BookingStatus};
use crate::domain::page::TimeCursor;

/// Whose bookings a list shows: the ones someone made, the ones on their services, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perspective {
    Customer,
    Provider,
    Both,
}

#[derive(Debug, Clone)]
pub struct BookingFilter {
    pub user_id: Uuid,
    pub perspective: Perspective,
    pub status: Option<BookingStatus>,
    pub service_id: Option<Uuid>,
    /// Sessions starting at or after.
    pub from: Option<DateTime<Utc>>,
    /// Sessions starting before.
    pub to: Option<DateTime<Utc>>,
    pub after: Option<TimeCursor>,
    pub limit: u32,
}

impl BookingFilter {
    /// The user id to match as booker and as provider (NULL where the perspective excludes it).
    fn sides(&self) -> (Option<Uuid>, Option<Uuid>) {
        let id = Some(self.user_id);
        match self.perspective {
            Perspective::Customer => (id, None),
            Perspective::Provider => (None, id),
            Perspective::Both => (id, id),
        }
    }
}

#[async_trait::async_trait]
pub trait BookingListStore: Send + Sync {
    /// Pending bookings of sessions that have not ended, soonest first.
    async fn current_bookings(
        &self,
        filter: BookingFilter,
        now: DateTime<Utc>,
    ) -> Result<Vec<Booking>, StoreError>;
    /// Every booking matching the filter, latest session first.
    async fn all_bookings(&self, filter: BookingFilter) -> Result<Vec<Booking>, StoreError>;
    /// Live (not cancelled) bookings a customer holds in sessions starting in `[from, to)`,
    /// soonest first.
    async fn customer_schedule(&self, filter: BookingFilter) -> Result<Vec<Booking>, StoreError>;
    async fn booking_counts(
        &self,
        user_id: Uuid,
        perspective: Perspective,
    ) -> Result<BookingCounts, StoreError>;
}

fn bookings(rows: Vec<BookingRow>) -> Result<Vec<Booking>, StoreError> {
    rows.into_iter().map(BookingRow::into_booking).collect()
}

#[async_trait::async_trait]
impl<B: Backend> BookingListStore for SqlStore<B> {
    async fn current_bookings(
        &self,
        filter: BookingFilter,
        now: DateTime<Utc>,
    ) -> Result<Vec<Booking>, StoreError> {
        let (as_customer, as_provider) = filter.sides();
        let (after_start, after_id) = filter.after.unzip();
        self.backend
            .read(move |c| {
                async move {
                    bookings(
                        c.fetch_all(
                            query(concat!(
                                booking_select!(),
                                "WHERE (b.user_id = $1 OR b.provider_id = $2) \
                                 AND b.status = 'Pending' AND s.ends_at > $3 \
                                 AND ($4 IS NULL OR b.service_id = $4) \
                                 AND ($5 IS NULL OR s.starts_at > $5 \
                                      OR (s.starts_at = $5 AND b.id > $6)) \
                                 ORDER BY s.starts_at, b.id LIMIT $7"
                            ))
                            .bind(as_customer)
                            .bind(as_provider)
                            .bind(now)
                            .bind(filter.service_id)
                            .bind(after_start)
                            .bind(after_id)
                            .bind(filter.limit),
                        )
                        .await?,
                    )
                }
                .boxed()
            })
            .await
    }

    async fn all_bookings(&self, filter: BookingFilter) -> Result<Vec<Booking>, StoreError> {
        let (as_customer, as_provider) = filter.sides();
        let (after_start, after_id) = filter.after.unzip();
        self.backend
            .read(move |c| {
                async move {
                    bookings(
                        c.fetch_all(
                            query(concat!(
                                booking_select!(),
                                "WHERE (b.user_id = $1 OR b.provider_id = $2) \
                                 AND ($3 IS NULL OR b.status = $3) \
                                 AND ($4 IS NULL OR b.service_id = $4) \
                                 AND ($5 IS NULL OR s.starts_at >= $5) \
                                 AND ($6 IS NULL OR s.starts_at < $6) \
                                 AND ($7 IS NULL OR s.starts_at < $7 \
                                      OR (s.starts_at = $7 AND b.id < $8)) \
                                 ORDER BY s.starts_at DESC, b.id DESC LIMIT $9"
                            ))
                            .bind(as_customer)
                            .bind(as_provider)
                            .bind(filter.status.map(BookingStatus::as_str))
                            .bind(filter.service_id)
                            .bind(filter.from)
                            .bind(filter.to)
                            .bind(after_start)
                            .bind(after_id)
                            .bind(filter.limit),
                        )
                        .await?,
                    )
                }
                .boxed()
            })
            .await
    }

    async fn booking_counts(
        &self,
        user_id: Uuid,
        perspective: Perspective,
    ) -> Result<BookingCounts, StoreError> {
        let filter = BookingFilter {
            user_id,
            perspective,
            status: None,
            service_id: None,
            from: None,
            to: None,
            after: None,
            limit: 0,
        };
        let (as_customer, as_provider) = filter.sides();
        self.backend
            .read(move |c| {
                async move {
                    let rows: Vec<(String, i64)> = c
                        .fetch_all(
                            query(
                                "SELECT status, COUNT(*) FROM bookings \
                                 WHERE user_id = $1 OR provider_id = $2 GROUP BY status",
                            )
                            .bind(as_customer)
                            .bind(as_provider),
                        )
                        .await?;
                    let mut counts = BookingCounts::default();
                    for (status, count) in rows {
                        match BookingStatus::parse(&status) {
                            Some(BookingStatus::Pending) => counts.pending = count,
                            Some(BookingStatus::Completed) => counts.completed = count,
                            Some(BookingStatus::Cancelled) => counts.cancelled = count,
                            None => {
                                return Err(super::corrupt(&format!("booking status `{status}`")));
                            }
                        }
                    }
                    Ok(counts)
                }
                .boxed()
            })
            .await
    }

    async fn customer_schedule(&self, filter: BookingFilter) -> Result<Vec<Booking>, StoreError> {
        let (after_start, after_id) = filter.after.unzip();
        self.backend
            .read(move |c| {
                async move {
                    bookings(
                        c.fetch_all(
                            query(concat!(
                                booking_select!(),
                                "WHERE b.user_id = $1 AND b.status <> 'Cancelled' \
                                 AND s.starts_at >= $2 AND s.starts_at < $3 \
                                 AND ($4 IS NULL OR b.service_id = $4) \
                                 AND ($5 IS NULL OR s.starts_at > $5 \
                                      OR (s.starts_at = $5 AND b.id > $6)) \
                                 ORDER BY s.starts_at, b.id LIMIT $7"
                            ))
                            .bind(filter.user_id)
                            .bind(filter.from)
                            .bind(filter.to)
                            .bind(filter.service_id)
                            .bind(after_start)
                            .bind(after_id)
                            .bind(filter.limit),
                        )
                        .await?,
                    )
                }
                .boxed()
            })
            .await
    }
}
