//! Lists of bookings: current, all (filtered), counts by status, and a customer's schedule.

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use uuid::Uuid;

use super::{
    Db, Read, Store, StoreError,
    booking_rows::{BookingRow, booking_select},
    query,
};
use crate::domain::booking::{Booking, BookingCounts, BookingStatus};
use crate::domain::page::TimeCursor;
use crate::domain::user::Role;

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
    /// Only bookings in this state.
    pub status: Option<BookingStatus>,
    /// Only bookings of this service.
    pub service_id: Option<Uuid>,
    /// Sessions starting at or after.
    pub from: Option<DateTime<Utc>>,
    /// Sessions starting before.
    pub to: Option<DateTime<Utc>>,
    pub after: Option<TimeCursor>,
    pub limit: u32,
}

impl BookingFilter {
    /// All of the user's bookings from this perspective, the first page of 50: narrow it with
    /// struct update syntax.
    pub fn of(user_id: Uuid, perspective: Perspective) -> Self {
        Self {
            user_id,
            perspective,
            status: None,
            service_id: None,
            from: None,
            to: None,
            after: None,
            limit: crate::domain::page::DEFAULT_LIMIT,
        }
    }
}

/// One statement per perspective, `$1` being the user. A single text with
/// `(user_id = $1 OR provider_id = $2)` and a NULL for the side left out is the same query to
/// SQLite, but PostgreSQL's generic plan for it (used after five runs of a prepared statement)
/// cannot know which side is NULL and scans the whole table: measured, 340 ms at a million
/// bookings against 4 ms with one text per side.
macro_rules! per_perspective {
    ($select:expr, $rest:expr) => {
        PerPerspective {
            customer: concat!($select, "WHERE b.user_id = $1 ", $rest),
            provider: concat!($select, "WHERE b.provider_id = $1 ", $rest),
            both: concat!(
                $select,
                "WHERE (b.user_id = $1 OR b.provider_id = $1) ",
                $rest
            ),
        }
    };
}

struct PerPerspective {
    customer: &'static str,
    provider: &'static str,
    both: &'static str,
}

impl PerPerspective {
    fn text(&self, perspective: Perspective) -> &'static str {
        match perspective {
            Perspective::Customer => self.customer,
            Perspective::Provider => self.provider,
            Perspective::Both => self.both,
        }
    }
}

/// What makes a booking current, and the page, in the statement's names for now, a service
/// (or NULL), the cursor (or NULLs) and the limit: stated once for one customer's statement here
/// and for many at once in `page_batches.rs`.
macro_rules! current_page {
    ($now:literal, $service:literal, $after_start:literal, $after_id:literal, $limit:literal) => {
        concat!(
            "AND b.status = 'Pending' AND s.ends_at > ",
            $now,
            " ",
            "AND (",
            $service,
            " IS NULL OR b.service_id = ",
            $service,
            ") ",
            "AND (",
            $after_start,
            " IS NULL OR b.session_starts_at > ",
            $after_start,
            " ",
            "OR (b.session_starts_at = ",
            $after_start,
            " AND b.id > ",
            $after_id,
            ")) ",
            "ORDER BY b.session_starts_at, b.id LIMIT ",
            $limit
        )
    };
}
pub(crate) use current_page;

const CURRENT_BOOKINGS: PerPerspective = per_perspective!(
    booking_select!(),
    current_page!("$2", "$3", "$4", "$5", "$6")
);

const ALL_BOOKINGS: PerPerspective = per_perspective!(
    booking_select!(),
    "AND ($2 IS NULL OR b.status = $2) \
     AND ($3 IS NULL OR b.service_id = $3) \
     AND ($4 IS NULL OR b.session_starts_at >= $4) \
     AND ($5 IS NULL OR b.session_starts_at < $5) \
     AND ($6 IS NULL OR b.session_starts_at < $6 \
          OR (b.session_starts_at = $6 AND b.id < $7)) \
     ORDER BY b.session_starts_at DESC, b.id DESC LIMIT $8"
);

const BOOKING_COUNTS: PerPerspective = per_perspective!(
    "SELECT b.status, COUNT(*) FROM bookings b ",
    "GROUP BY b.status"
);

/// Pending bookings of sessions that have not ended, soonest first.
pub async fn current(
    r: &mut impl Read,
    filter: BookingFilter,
    now: DateTime<Utc>,
) -> Result<Vec<Booking>, StoreError> {
    let (after_start, after_id) = filter.after.unzip();
    r.fetch_values::<BookingRow>(
        query(CURRENT_BOOKINGS.text(filter.perspective))
            .bind(filter.user_id)
            .bind(now)
            .bind(filter.service_id)
            .bind(after_start)
            .bind(after_id)
            .bind(filter.limit),
    )
    .await
}

impl Store {
    /// A customer's own current bookings (`filter` from their perspective), read along with the
    /// check that their login is live: on PostgreSQL in the same statement (one round trip, not
    /// two), together with other customers' pages asked for meanwhile
    /// ([`page_batches`](super::page_batches)); on SQLite from its cache of live logins. `None`
    /// means "ask the long way": nothing came back (the login is not live, the user is a
    /// provider, or there is nothing to show), or SQLite does not have the login cached yet.
    pub async fn own_current_bookings(
        &self,
        login_id: Uuid,
        filter: BookingFilter,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<Booking>>, StoreError> {
        if filter.perspective != Perspective::Customer {
            return Ok(None);
        }
        let pages = match &self.inner.db {
            Db::Postgres(_, pages) => pages,
            Db::Sqlite(_) => {
                return match self.cached_principal(login_id, filter.user_id, now) {
                    Some(user) if user.role != Role::Provider => self
                        .read(move |r| current(r, filter.clone(), now).boxed())
                        .await
                        .map(Some),
                    _ => Ok(None),
                };
            }
        };
        let rows = pages.own_current(login_id, filter, now).await?;
        Ok((!rows.is_empty()).then_some(rows))
    }
}

/// Every booking matching the filter, latest session first.
pub async fn all(r: &mut impl Read, filter: BookingFilter) -> Result<Vec<Booking>, StoreError> {
    let (after_start, after_id) = filter.after.unzip();
    r.fetch_values::<BookingRow>(
        query(ALL_BOOKINGS.text(filter.perspective))
            .bind(filter.user_id)
            .bind(filter.status.map(BookingStatus::as_str))
            .bind(filter.service_id)
            .bind(filter.from)
            .bind(filter.to)
            .bind(after_start)
            .bind(after_id)
            .bind(filter.limit),
    )
    .await
}

/// How many of the user's bookings (or, as a provider, of those on their services) are in each
/// state.
pub async fn counts(
    r: &mut impl Read,
    user_id: Uuid,
    perspective: Perspective,
) -> Result<BookingCounts, StoreError> {
    let rows: Vec<(String, i64)> = r
        .fetch_all(query(BOOKING_COUNTS.text(perspective)).bind(user_id))
        .await?;
    let mut counts = BookingCounts::default();
    for (status, count) in rows {
        match BookingStatus::parse(&status) {
            Some(BookingStatus::Pending) => counts.pending = count,
            Some(BookingStatus::Completed) => counts.completed = count,
            Some(BookingStatus::Cancelled) => counts.cancelled = count,
            None => return Err(super::corrupt(&format!("booking status `{status}`"))),
        }
    }
    Ok(counts)
}

/// Live (not cancelled) bookings a customer holds in sessions starting in `[from, to)`, soonest
/// first.
pub async fn customer_schedule(
    r: &mut impl Read,
    filter: BookingFilter,
) -> Result<Vec<Booking>, StoreError> {
    let (after_start, after_id) = filter.after.unzip();
    r.fetch_values::<BookingRow>(
        query(concat!(
            booking_select!(),
            "WHERE b.user_id = $1 AND b.status <> 'Cancelled' \
                 AND b.session_starts_at >= $2 AND b.session_starts_at < $3 \
                 AND ($4 IS NULL OR b.service_id = $4) \
                 AND ($5 IS NULL OR b.session_starts_at > $5 \
                      OR (b.session_starts_at = $5 AND b.id > $6)) \
                 ORDER BY b.session_starts_at, b.id LIMIT $7"
        ))
        .bind(filter.user_id)
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.service_id)
        .bind(after_start)
        .bind(after_id)
        .bind(filter.limit),
    )
    .await
}
