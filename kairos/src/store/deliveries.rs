//! Webhook deliveries: one per webhook and event, claimed for a lease by the worker that sends
//! it (as messages are), each try logged with its outcome.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Dialect, Read, Row, StoreError, Writer, query,
    query::{MAX_REPEATS, Repeated, repeated_texts},
    record,
};
use crate::domain::{
    delivery::{Delivery, DeliveryAttempt, DeliveryStatus},
    id::new_id,
};

/// An event to post to a webhook.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub webhook_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub body: String,
}

static ENQUEUE: Repeated = Repeated::new(|| {
    repeated_texts(
        "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, body, status, \
         attempts, next_attempt_at, created_at) VALUES ",
        "({}, {}, {}, {}, {}, 'pending', 0, $1, $1)",
        ", ",
        " ON CONFLICT (webhook_id, event_id) DO NOTHING",
        2,
    )
});

/// Queues the deliveries, due now. An event already queued for a webhook is left out.
pub async fn enqueue(
    w: &mut Writer,
    deliveries: Vec<NewDelivery>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in deliveries.chunks(MAX_REPEATS) {
        let mut insert = ENQUEUE.query(chunk.len()).bind(now);
        for delivery in chunk {
            insert = insert
                .bind(new_id())
                .bind(delivery.webhook_id)
                .bind(delivery.event_id)
                .bind(delivery.event_type.clone())
                .bind(delivery.body.clone());
        }
        w.execute(insert).await?;
    }
    if !deliveries.is_empty() {
        w.outbox_changed();
    }
    Ok(())
}

record! {
    /// A claimed delivery with what sending it needs.
    #[derive(Debug, Clone)]
    pub struct Claimed {
        pub id: Uuid,
        pub webhook_id: Uuid,
        pub owner_id: Uuid,
        pub event_id: Uuid,
        pub body: String,
        /// Tries before this one.
        pub attempts: i64,
        pub url: String,
        pub secret: String,
        pub previous_secret: Option<String>,
        pub previous_secret_until: Option<DateTime<Utc>>,
    }
}

/// Claims up to `limit` due deliveries of enabled webhooks until `until`; like messages, a
/// written lease on PostgreSQL (several instances) and a read on SQLite (one process).
pub async fn claim_due(
    w: &mut Writer,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Claimed>, StoreError> {
    match w.dialect() {
        Dialect::Sqlite => {
            w.fetch_all(
                query(
                    "SELECT d.id, d.webhook_id, h.owner_id, d.event_id, d.body, d.attempts, \
                     h.url, h.secret, h.previous_secret, h.previous_secret_until \
                     FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id \
                     WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND h.enabled \
                     ORDER BY d.next_attempt_at LIMIT $2",
                )
                .bind(now)
                .bind(limit),
            )
            .await
        }
        Dialect::Postgres => {
            w.fetch_all(
                query(
                    "WITH claimed AS (UPDATE webhook_deliveries SET claimed_until = $2 \
                     WHERE id IN (SELECT d.id FROM webhook_deliveries d \
                       JOIN webhooks h ON h.id = d.webhook_id \
                       WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND h.enabled \
                       AND (d.claimed_until IS NULL OR d.claimed_until <= $1) \
                       ORDER BY d.next_attempt_at LIMIT $3 FOR UPDATE OF d SKIP LOCKED) \
                     RETURNING id, webhook_id, event_id, body, attempts) \
                     SELECT d.id, d.webhook_id, h.owner_id, d.event_id, d.body, d.attempts, \
                     h.url, h.secret, h.previous_secret, h.previous_secret_until \
                     FROM claimed d JOIN webhooks h ON h.id = d.webhook_id",
                )
                .bind(now)
                .bind(until)
                .bind(limit),
            )
            .await
        }
    }
}

/// How one try went, to be logged.
#[derive(Debug, Clone)]
pub struct Tried {
    pub delivery_id: Uuid,
    pub at: DateTime<Utc>,
    pub response_status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// What the delivery is now.
    pub status: DeliveryStatus,
    /// Its next try, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Logs the try and moves the delivery on. A delivery that is no longer pending (redelivered
/// meanwhile, or its webhook deleted) is left as it is.
pub async fn record(w: &mut Writer, tried: &Tried) -> Result<(), StoreError> {
    let changed = w
        .execute(
            query(
                "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, \
                 next_attempt_at = COALESCE($3, next_attempt_at), claimed_until = NULL \
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind(tried.delivery_id)
            .bind(tried.status.as_str())
            .bind(tried.next_attempt_at),
        )
        .await?;
    if changed == 0 {
        return Ok(());
    }
    w.execute(
        query(
            "INSERT INTO webhook_attempts (id, delivery_id, attempted_at, response_status, error, \
             duration_ms, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id())
        .bind(tried.delivery_id)
        .bind(tried.at)
        .bind(tried.response_status)
        .bind(tried.error.clone())
        .bind(tried.duration_ms)
        .bind(tried.next_attempt_at),
    )
    .await
    .map(drop)
}

static MARK_SUCCEEDED: Repeated = Repeated::new(|| {
    repeated_texts(
        "UPDATE webhook_deliveries SET status = 'succeeded', attempts = attempts + 1, \
         claimed_until = NULL WHERE status = 'pending' AND id IN (",
        "{}",
        ", ",
        ")",
        1,
    )
});

static LOG_TRIES: Repeated = Repeated::new(|| {
    repeated_texts(
        "INSERT INTO webhook_attempts (id, delivery_id, attempted_at, response_status, error, \
         duration_ms, next_attempt_at) VALUES ",
        "({}, {}, {}, {}, {}, {}, {})",
        ", ",
        "",
        1,
    )
});

/// Logs tries that succeeded and marks their deliveries done, a few statements for the lot
/// (the common case under load, so it costs the single writer little).
pub async fn record_successes(w: &mut Writer, tries: &[Tried]) -> Result<(), StoreError> {
    for chunk in tries.chunks(MAX_REPEATS) {
        let mark = chunk
            .iter()
            .fold(MARK_SUCCEEDED.query(chunk.len()), |q, t| {
                q.bind(t.delivery_id)
            });
        w.execute(mark).await?;
        let log = chunk.iter().fold(LOG_TRIES.query(chunk.len()), |q, t| {
            q.bind(new_id())
                .bind(t.delivery_id)
                .bind(t.at)
                .bind(t.response_status)
                .bind(t.error.clone())
                .bind(t.duration_ms)
                .bind(t.next_attempt_at)
        });
        w.execute(log).await?;
    }
    Ok(())
}

record! {
    struct DeliveryRow {
        id: Uuid,
        webhook_id: Uuid,
        event_id: Uuid,
        event_type: String,
        status: String,
        next_attempt_at: DateTime<Utc>,
        created_at: DateTime<Utc>,
    }
}

impl Row for DeliveryRow {
    type Value = Delivery;

    fn value(self) -> Result<Delivery, StoreError> {
        let status = DeliveryStatus::parse(&self.status)
            .ok_or_else(|| super::corrupt(&format!("delivery status `{}`", self.status)))?;
        Ok(Delivery {
            id: self.id,
            webhook_id: self.webhook_id,
            event_id: self.event_id,
            event_type: self.event_type,
            status,
            next_attempt_at: (status == DeliveryStatus::Pending).then_some(self.next_attempt_at),
            created_at: self.created_at,
            attempts: Vec::new(),
        })
    }
}

record! {
    struct AttemptRow {
        delivery_id: Uuid,
        attempted_at: DateTime<Utc>,
        response_status: Option<i64>,
        error: Option<String>,
        duration_ms: i64,
        next_attempt_at: Option<DateTime<Utc>>,
    }
}

/// A webhook's deliveries, newest first, after the cursor delivery, each with its tries.
pub async fn of_webhook(
    r: &mut impl Read,
    webhook_id: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<Delivery>, StoreError> {
    let mut deliveries = r
        .fetch_values::<DeliveryRow>(
            query(
                "SELECT id, webhook_id, event_id, event_type, status, next_attempt_at, created_at \
                 FROM webhook_deliveries WHERE webhook_id = $1 AND ($2 IS NULL OR id < $2) \
                 ORDER BY id DESC LIMIT $3",
            )
            .bind(webhook_id)
            .bind(after)
            .bind(limit),
        )
        .await?;
    let (Some(newest), Some(oldest)) = (deliveries.first(), deliveries.last()) else {
        return Ok(deliveries);
    };
    let attempts: Vec<AttemptRow> = r
        .fetch_all(
            query(
                "SELECT a.delivery_id, a.attempted_at, a.response_status, a.error, a.duration_ms, \
                 a.next_attempt_at FROM webhook_attempts a \
                 JOIN webhook_deliveries d ON d.id = a.delivery_id \
                 WHERE d.webhook_id = $1 AND d.id <= $2 AND d.id >= $3 \
                 ORDER BY a.attempted_at, a.id",
            )
            .bind(webhook_id)
            .bind(newest.id)
            .bind(oldest.id),
        )
        .await?;
    for attempt in attempts {
        if let Some(delivery) = deliveries.iter_mut().find(|d| d.id == attempt.delivery_id) {
            delivery.attempts.push(DeliveryAttempt {
                attempted_at: attempt.attempted_at,
                response_status: attempt.response_status,
                error: attempt.error,
                duration_ms: attempt.duration_ms,
                next_attempt_at: attempt.next_attempt_at,
            });
        }
    }
    Ok(deliveries)
}

/// Sends the delivery again now, with the same event id: pending, due now, its schedule
/// started afresh. Its tries so far stay in the log.
pub async fn redeliver(
    w: &mut Writer,
    webhook_id: Uuid,
    delivery_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changed = w
        .execute(
            query(
                "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, \
                 next_attempt_at = $3, claimed_until = NULL WHERE id = $1 AND webhook_id = $2",
            )
            .bind(delivery_id)
            .bind(webhook_id)
            .bind(now),
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    w.outbox_changed();
    Ok(())
}

/// When the next delivery of an enabled webhook is due, if any is.
pub async fn next_due(r: &mut impl Read) -> Result<Option<DateTime<Utc>>, StoreError> {
    let (due,): (Option<DateTime<Utc>>,) = r
        .fetch_one(query(
            "SELECT MIN(d.next_attempt_at) FROM webhook_deliveries d \
             JOIN webhooks h ON h.id = d.webhook_id WHERE d.status = 'pending' AND h.enabled",
        ))
        .await?;
    Ok(due)
}

/// Lets go of every claim (SQLite, at start; see `messages::release_claims`).
pub async fn release_claims(w: &mut Writer) -> Result<u64, StoreError> {
    w.execute(query(
        "UPDATE webhook_deliveries SET claimed_until = NULL WHERE claimed_until IS NOT NULL",
    ))
    .await
}
