//! `Idempotency-Key`: the booking a request made is kept for 24 hours and returned to retries.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{Read, StoreError, Writer, query, record};
use crate::domain::booking::Booking;

pub const KEPT_FOR: Duration = Duration::hours(24);
/// An in-flight claim older than this is taken to be abandoned (its request died) and can be
/// taken over.
pub const ABANDONED_AFTER: Duration = Duration::seconds(60);

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Yours: go ahead, then record the answer.
    Claimed,
    /// Done before: this is the booking it made, as it was then.
    Replay(Box<Booking>),
    /// Another request with this key is being handled now.
    InFlight,
    /// The key was used with a different request.
    Mismatch,
}

record! {
    struct KeyRow {
        request_hash: Vec<u8>,
        state: String,
        booking: Option<String>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }
}

/// Lets go of a claim whose request failed in a way worth retrying.
pub async fn release(w: &mut Writer, user_id: Uuid, key: String) -> Result<(), StoreError> {
    w.execute(
        query(
            "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND state = 'in_flight'",
        )
        .bind(user_id)
        .bind(key),
    )
    .await
    .map(drop)
}

pub async fn purge(w: &mut Writer, now: DateTime<Utc>) -> Result<u64, StoreError> {
    w.execute(query("DELETE FROM idempotency_keys WHERE created_at <= $1").bind(now - KEPT_FOR))
        .await
}

/// Claims the key for this request, or says why not (done before, in flight, or used with
/// another request).
pub async fn claim(
    w: &mut Writer,
    user_id: Uuid,
    key: String,
    request_hash: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<Claim, StoreError> {
    let existing: Option<KeyRow> = w
        .fetch_optional(
            query(
                "SELECT request_hash, state, booking, created_at, updated_at \
                 FROM idempotency_keys WHERE user_id = $1 AND key = $2",
            )
            .bind(user_id)
            .bind(key.clone()),
        )
        .await?;
    let Some(row) = existing else {
        // Of two requests racing to claim, the second finds the row and waits out the first.
        let inserted = w
            .execute(
                query(
                    "INSERT INTO idempotency_keys (user_id, key, request_hash, state, created_at, \
                     updated_at) VALUES ($1, $2, $3, 'in_flight', $4, $4) \
                     ON CONFLICT (user_id, key) DO NOTHING",
                )
                .bind(user_id)
                .bind(key)
                .bind(request_hash)
                .bind(now),
            )
            .await?;
        return Ok(if inserted == 1 {
            Claim::Claimed
        } else {
            Claim::InFlight
        });
    };
    let expired = row.created_at <= now - KEPT_FOR;
    let abandoned = row.state == "in_flight" && row.updated_at <= now - ABANDONED_AFTER;
    if expired || (abandoned && row.request_hash == request_hash) {
        w.execute(
            query(
                "UPDATE idempotency_keys SET request_hash = $3, state = 'in_flight', \
                 booking = NULL, created_at = $4, updated_at = $4 \
                 WHERE user_id = $1 AND key = $2",
            )
            .bind(user_id)
            .bind(key)
            .bind(request_hash)
            .bind(now),
        )
        .await?;
        return Ok(Claim::Claimed);
    }
    if row.request_hash != request_hash {
        return Ok(Claim::Mismatch);
    }
    match (row.state.as_str(), row.booking) {
        ("done", Some(booking)) => serde_json::from_str(&booking)
            .map(|booking| Claim::Replay(Box::new(booking)))
            .map_err(|_| super::corrupt("idempotent booking")),
        _ => Ok(Claim::InFlight),
    }
}

/// Keeps the booking a claimed key's request made, in the transaction that made it.
pub async fn record(
    w: &mut Writer,
    user_id: Uuid,
    key: String,
    booking: &Booking,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let kept = serde_json::to_string(booking).map_err(|e| super::corrupt(&e.to_string()))?;
    w.execute(
        query(
            "UPDATE idempotency_keys SET state = 'done', booking = $3, updated_at = $4 \
             WHERE user_id = $1 AND key = $2",
        )
        .bind(user_id)
        .bind(key)
        .bind(kept)
        .bind(now),
    )
    .await
    .map(drop)
}
