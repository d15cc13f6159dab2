//! Messages: the mails Kairos owes, each with its state, tries and next try. A worker claims due
//! messages for a while (a lease), sends them and records how it went; a crashed worker's claim
//! lapses and another worker takes the message over.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Dialect, Read, Row, StoreError, Writer, query,
    query::{MAX_REPEATS, Repeated, repeated_texts},
    record,
};
use crate::domain::{
    outbox::{MessageStatus, OutboxMessage},
    refusal::Refusal,
};

/// A message to send: to whom, what it says (as JSON), and the `Message-ID` that makes it
/// unique (the same event never makes the same mail twice).
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: Uuid,
    pub event_id: Option<Uuid>,
    pub booking_id: Option<Uuid>,
    pub kind: &'static str,
    pub user_id: Uuid,
    pub recipient: String,
    pub subject: String,
    pub message_id: String,
    pub content: String,
}

static ENQUEUE: Repeated = Repeated::new(|| {
    repeated_texts(
        "INSERT INTO messages (id, event_id, booking_id, kind, user_id, recipient, subject, \
         message_id, content, status, attempts, next_attempt_at, created_at) VALUES ",
        "({}, {}, {}, {}, {}, {}, {}, {}, {}, 'pending', 0, $1, $1)",
        ", ",
        " ON CONFLICT (message_id) DO NOTHING",
        2,
    )
});

/// Queues the messages, due now. One whose `Message-ID` is queued already is left out: the
/// same event never makes the same mail twice.
pub async fn enqueue(
    w: &mut Writer,
    messages: Vec<NewMessage>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in messages.chunks(MAX_REPEATS) {
        let mut insert = ENQUEUE.query(chunk.len()).bind(now);
        for message in chunk {
            insert = insert
                .bind(message.id)
                .bind(message.event_id)
                .bind(message.booking_id)
                .bind(message.kind)
                .bind(message.user_id)
                .bind(message.recipient.clone())
                .bind(message.subject.clone())
                .bind(message.message_id.clone())
                .bind(message.content.clone());
        }
        w.execute(insert).await?;
    }
    if !messages.is_empty() {
        w.outbox_changed();
    }
    Ok(())
}

record! {
    /// A claimed message, ready to be written and sent.
    #[derive(Debug, Clone)]
    pub struct Claimed {
        pub id: Uuid,
        pub message_id: String,
        pub recipient: String,
        pub content: String,
        /// Tries before this one.
        pub attempts: i64,
    }
}

/// Claims up to `limit` due messages until `until`: no other worker takes them meanwhile.
///
/// On PostgreSQL several instances share the outbox, so a claim is written (a lease, taken
/// `FOR UPDATE SKIP LOCKED`). On SQLite this process is the only worker there can be, so the
/// claim is a read: writing it would cost the single writer a second update per message, and
/// a crash between sending and recording is covered either way (the mail goes again, with the
/// same `Message-ID`).
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
                    "SELECT id, message_id, recipient, content, attempts FROM messages \
                     WHERE status = 'pending' AND next_attempt_at <= $1 \
                     ORDER BY next_attempt_at LIMIT $2",
                )
                .bind(now)
                .bind(limit),
            )
            .await
        }
        Dialect::Postgres => {
            w.fetch_all(
                query(
                    "UPDATE messages SET claimed_until = $2 WHERE id IN \
                     (SELECT id FROM messages WHERE status = 'pending' AND next_attempt_at <= $1 \
                      AND (claimed_until IS NULL OR claimed_until <= $1) \
                      ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
                     RETURNING id, message_id, recipient, content, attempts",
                )
                .bind(now)
                .bind(until)
                .bind(limit),
            )
            .await
        }
    }
}

static MARK_SENT: Repeated = Repeated::new(|| {
    repeated_texts(
        "UPDATE messages SET status = 'sent', attempts = attempts + 1, sent_at = $1, \
         claimed_until = NULL, last_error = NULL WHERE status = 'pending' AND id IN (",
        "{}",
        ", ",
        ")",
        2,
    )
});

/// These messages went out.
pub async fn mark_sent(w: &mut Writer, ids: &[Uuid], now: DateTime<Utc>) -> Result<(), StoreError> {
    for chunk in ids.chunks(MAX_REPEATS) {
        let update = chunk
            .iter()
            .fold(MARK_SENT.query(chunk.len()).bind(now), |q, id| q.bind(*id));
        w.execute(update).await?;
    }
    Ok(())
}

/// A try failed: try again at `retry_at`, or, with none, mark the message failed.
pub async fn mark_failed_try(
    w: &mut Writer,
    id: Uuid,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    let status = if retry_at.is_some() {
        MessageStatus::Pending
    } else {
        MessageStatus::Failed
    };
    w.execute(
        query(
            "UPDATE messages SET status = $2, attempts = attempts + 1, last_error = $3, \
             next_attempt_at = COALESCE($4, next_attempt_at), claimed_until = NULL \
             WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(error)
        .bind(retry_at),
    )
    .await
    .map(drop)
}

/// Lets go of every claim: at the start of the only process that writes this database (SQLite),
/// whatever an earlier, crashed run had claimed is due again at once.
pub async fn release_claims(w: &mut Writer) -> Result<u64, StoreError> {
    w.execute(query(
        "UPDATE messages SET claimed_until = NULL WHERE claimed_until IS NOT NULL",
    ))
    .await
}

macro_rules! message_columns {
    () => {
        "id, kind, recipient, subject, status, attempts, last_error, next_attempt_at, event_id, \
         booking_id, message_id, created_at, sent_at"
    };
}

record! {
    struct MessageRow {
        id: Uuid,
        kind: String,
        recipient: String,
        subject: String,
        status: String,
        attempts: i64,
        last_error: Option<String>,
        next_attempt_at: DateTime<Utc>,
        event_id: Option<Uuid>,
        booking_id: Option<Uuid>,
        message_id: String,
        created_at: DateTime<Utc>,
        sent_at: Option<DateTime<Utc>>,
    }
}

impl Row for MessageRow {
    type Value = OutboxMessage;

    fn value(self) -> Result<OutboxMessage, StoreError> {
        let status = MessageStatus::parse(&self.status)
            .ok_or_else(|| super::corrupt(&format!("message status `{}`", self.status)))?;
        Ok(OutboxMessage {
            id: self.id,
            channel: "mail",
            kind: self.kind,
            recipient: self.recipient,
            subject: self.subject,
            status,
            attempts: self.attempts,
            last_error: self.last_error,
            next_attempt_at: (status == MessageStatus::Pending).then_some(self.next_attempt_at),
            event_id: self.event_id,
            booking_id: self.booking_id,
            message_id: self.message_id,
            created_at: self.created_at,
            sent_at: self.sent_at,
        })
    }
}

/// Messages newest first, optionally of one status, after the cursor message.
pub async fn list(
    r: &mut impl Read,
    status: Option<MessageStatus>,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<OutboxMessage>, StoreError> {
    r.fetch_values::<MessageRow>(
        query(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(status.map(MessageStatus::as_str))
        .bind(after)
        .bind(limit),
    )
    .await
}

const BY_ID: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM messages WHERE id = $1"
);

pub async fn by_id(r: &mut impl Read, id: Uuid) -> Result<Option<OutboxMessage>, StoreError> {
    r.fetch_value::<MessageRow>(query(BY_ID).bind(id)).await
}

/// Every message about a booking, oldest first.
pub async fn of_booking(
    r: &mut impl Read,
    booking_id: Uuid,
) -> Result<Vec<OutboxMessage>, StoreError> {
    r.fetch_values::<MessageRow>(
        query(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE booking_id = $1 ORDER BY created_at, id"
        ))
        .bind(booking_id),
    )
    .await
}

/// Sends a failed message again: pending, due now, with its tries counted afresh. Only a
/// failed message can be retried ([`Refusal::MessageNotFailed`]).
pub async fn retry(
    w: &mut Writer,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<OutboxMessage, StoreError> {
    let current = by_id(w, id).await?.ok_or(StoreError::NotFound)?;
    if current.status != MessageStatus::Failed {
        return Err(StoreError::Refused(Refusal::MessageNotFailed));
    }
    w.execute(
        query(
            "UPDATE messages SET status = 'pending', attempts = 0, next_attempt_at = $2, \
             claimed_until = NULL WHERE id = $1 AND status = 'failed'",
        )
        .bind(id)
        .bind(now),
    )
    .await?;
    w.outbox_changed();
    by_id(w, id)
        .await?
        .ok_or_else(|| StoreError::missing(format!("message {id}, just retried")))
}

/// How many messages wait to be sent.
pub async fn pending_count(r: &mut impl Read) -> Result<i64, StoreError> {
    let (count,): (i64,) = r
        .fetch_one(query(
            "SELECT COUNT(*) FROM messages WHERE status = 'pending'",
        ))
        .await?;
    Ok(count)
}

/// When the next pending message is due, if any is.
pub async fn next_due(r: &mut impl Read) -> Result<Option<DateTime<Utc>>, StoreError> {
    let (due,): (Option<DateTime<Utc>>,) = r
        .fetch_one(query(
            "SELECT MIN(next_attempt_at) FROM messages WHERE status = 'pending'",
        ))
        .await?;
    Ok(due)
}
