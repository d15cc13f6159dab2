//! The public catalogue and customers' subscriptions (including "remove yourself").

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Read, StoreError, Writer,
    booking_rows::reread_all,
    query, record,
    services::{ServiceRow, release_seats, service_columns},
};
use crate::domain::{
    booking::{Booking, check_cancellation_notice},
    service::Service,
};

/// The services a customer is subscribed to, newest first.
pub async fn subscribed(
    r: &mut impl Read,
    user_id: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<Service>, StoreError> {
    r.fetch_values::<ServiceRow>(
        query(concat!(
            "SELECT ",
            service_columns!(),
            " FROM services WHERE id IN \
                 (SELECT service_id FROM subscriptions WHERE user_id = $1) \
                 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        ))
        .bind(user_id)
        .bind(after)
        .bind(limit),
    )
    .await
}

pub async fn is_subscribed(
    r: &mut impl Read,
    user_id: Uuid,
    service_id: Uuid,
) -> Result<bool, StoreError> {
    let found: Option<(Uuid,)> = r
        .fetch_optional(
            query("SELECT service_id FROM subscriptions WHERE user_id = $1 AND service_id = $2")
                .bind(user_id)
                .bind(service_id),
        )
        .await?;
    Ok(found.is_some())
}

/// Published services, newest first, optionally matching `search` or of one provider.
pub async fn published(
    r: &mut impl Read,
    search: Option<String>,
    provider_id: Option<Uuid>,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<Service>, StoreError> {
    let pattern = search.map(|term| format!("%{}%", escape_like(&term.to_lowercase())));
    r.fetch_values::<ServiceRow>(
        query(concat!(
            "SELECT ",
            service_columns!(),
            " FROM services WHERE status = 'published' \
                 AND ($1 IS NULL OR lower(name) LIKE $1 ESCAPE '\\' \
                      OR lower(description) LIKE $1 ESCAPE '\\') \
                 AND ($2 IS NULL OR provider_id = $2) \
                 AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
        ))
        .bind(pattern)
        .bind(provider_id)
        .bind(after)
        .bind(limit),
    )
    .await
}

/// A search term as a LIKE pattern's literal part.
fn escape_like(term: &str) -> String {
    term.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

record! {
    struct PendingStart {
        starts_at: DateTime<Utc>,
        cancellation_notice_minutes: i64,
    }
}

/// "Remove yourself": unsubscribes and cancels the customer's pending bookings there, all or
/// nothing (a booking inside the cancellation notice refuses the whole operation). Answers the
/// bookings it cancelled, as they now are.
pub async fn unsubscribe(
    w: &mut Writer,
    user_id: Uuid,
    service_id: Uuid,
    reason: String,
    now: DateTime<Utc>,
) -> Result<Vec<Booking>, StoreError> {
    let pending: Vec<PendingStart> = w
        .fetch_all(
            query(
                "SELECT s.starts_at, svc.cancellation_notice_minutes FROM bookings b \
                 JOIN sessions s ON s.id = b.session_id JOIN services svc ON svc.id = b.service_id \
                 WHERE b.user_id = $1 AND b.service_id = $2 AND b.status = 'Pending'",
            )
            .bind(user_id)
            .bind(service_id),
        )
        .await?;
    for booking in &pending {
        check_cancellation_notice(booking.starts_at, booking.cancellation_notice_minutes, now)
            .map_err(StoreError::Refused)?;
    }
    let freed: Vec<(Uuid, Uuid)> = w
        .fetch_all(
            query(
                "UPDATE bookings SET status = 'Cancelled', cancellation_reason = $3, \
                 cancelled_by = 'customer', sequence = sequence + 1, updated_at = $4 \
                 WHERE user_id = $1 AND service_id = $2 AND status = 'Pending' \
                 RETURNING id, session_id",
            )
            .bind(user_id)
            .bind(service_id)
            .bind(reason)
            .bind(now),
        )
        .await?;
    release_seats(w, &freed, now).await?;
    w.execute(
        query("DELETE FROM subscriptions WHERE user_id = $1 AND service_id = $2")
            .bind(user_id)
            .bind(service_id),
    )
    .await?;
    reread_all(w, freed.into_iter().map(|(booking, _)| booking)).await
}
