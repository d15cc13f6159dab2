//! `Idempotency-Key`: the first answer to a request is kept for 24 hours and returned to retries.

use chrono::{DateTime, Duration, Utc};
use futures_util::FutureExt;
use uuid::Uuid;

use super::{
    StoreError,
    backend::{Backend, SqlStore},
    sql::{Conn, query},
};

pub const KEPT_FOR: Duration = Duration::hours(24);
/// An in-flight claim older than this is taken to be abandoned (its request died) and can be
/// taken over.
pub const ABANDONED_AFTER: Duration = Duration::seconds(60);

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Yours: go ahead, then record the answer.
    Claimed,
    /// Answered before: send this again.
    Replay { status: u16, body: String },
    /// Another request with this key is being handled now.
    InFlight,
    /// The key was used with a different request.
    Mismatch,
}

#[async_trait::async_trait]
pub trait IdempotencyStore: Send + Sync {
    async fn claim_idempotency_key(
        &self,
        user_id: Uuid,
        key: String,
        request_hash: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<Claim, StoreError>;
    /// Records a claimed key's answer.
    async fn finish_idempotency_key(
        &self,
        user_id: Uuid,
        key: String,
        status: u16,
        body: String,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Lets go of a claim whose request failed in a way worth retrying.
    async fn release_idempotency_key(&self, user_id: Uuid, key: String) -> Result<(), StoreError>;
    async fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    request_hash: Vec<u8>,
    state: String,
    response_status: Option<i64>,
    response_body: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[async_trait::async_trait]
impl<B: Backend> IdempotencyStore for SqlStore<B> {
    async fn claim_idempotency_key(
        &self,
        user_id: Uuid,
        key: String,
        request_hash: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        self.backend
            .write(move |c| claim(c, user_id, key, request_hash, now).boxed())
            .await
    }

    async fn finish_idempotency_key(
        &self,
        user_id: Uuid,
        key: String,
        status: u16,
        body: String,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.backend
            .write(move |c| record(c, user_id, key, status, body, now).boxed())
            .await
    }

    async fn release_idempotency_key(&self, user_id: Uuid, key: String) -> Result<(), StoreError> {
        self.backend
            .write(move |c| {
                async move {
                    c.execute(
                        query(
                            "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 \
                             AND state = 'in_flight'",
                        )
                        .bind(user_id)
                        .bind(key),
                    )
                    .await
                    .map(drop)
                }
                .boxed()
            })
            .await
    }

    async fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.backend
            .write(move |c| {
                c.execute(
                    query("DELETE FROM idempotency_keys WHERE created_at <= $1")
                        .bind(now - KEPT_FOR),
                )
                .boxed()
            })
            .await
    }
}

async fn claim<C: Conn>(
    c: &mut C,
    user_id: Uuid,
    key: String,
    request_hash: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<Claim, StoreError> {
    let existing: Option<KeyRow> = c
        .fetch_optional(
            query(
                "SELECT request_hash, state, response_status, response_body, created_at, \
                 updated_at FROM idempotency_keys WHERE user_id = $1 AND key = $2",
            )
            .bind(user_id)
            .bind(key.clone()),
        )
        .await?;
    let Some(row) = existing else {
        // Of two requests racing to claim, the second finds the row and waits out the first.
        let inserted = c
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
        c.execute(
            query(
                "UPDATE idempotency_keys SET request_hash = $3, state = 'in_flight', \
                 response_status = NULL, response_body = NULL, created_at = $4, updated_at = $4 \
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
    match (row.state.as_str(), row.response_status, row.response_body) {
        ("done", Some(status), Some(body)) => Ok(Claim::Replay {
            status: u16::try_from(status).map_err(|_| super::corrupt("response status"))?,
            body,
        }),
        _ => Ok(Claim::InFlight),
    }
}

pub(crate) async fn record<C: Conn>(
    c: &mut C,
    user_id: Uuid,
    key: String,
    status: u16,
    body: String,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        query(
            "UPDATE idempotency_keys SET state = 'done', response_status = $3, \
             response_body = $4, updated_at = $5 WHERE user_id = $1 AND key = $2",
        )
        .bind(user_id)
        .bind(key)
        .bind(i64::from(status))
        .bind(body)
        .bind(now),
    )
    .await
    .map(drop)
}
