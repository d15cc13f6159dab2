//! The event log (the transactional outbox): events are written by the operation whose change
//! they tell of, inside its transaction, and taken from here to be turned into messages.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Dialect, Read, Row, StoreError, Writer, query};
use crate::domain::event::{Event, EventType, Subject};

/// Writes the event in the writer's transaction: it commits with the change, or not at all.
pub async fn record(w: &mut Writer, event: &Event) -> Result<(), StoreError> {
    let subject = &event.subject;
    w.execute(
        query(
            "INSERT INTO events (id, type, occurred_at, data, service_id, provider_id, \
             booking_id, customer_id, booking_sequence) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(event.id)
        .bind(event.kind.as_str())
        .bind(event.occurred_at)
        .bind(event.data.to_string())
        .bind(subject.service_id)
        .bind(subject.provider_id)
        .bind(subject.booking_id)
        .bind(subject.customer_id)
        .bind(subject.booking_sequence),
    )
    .await?;
    w.outbox_changed();
    Ok(())
}

/// Writes each event, in order, in the writer's transaction.
pub async fn record_all(w: &mut Writer, events: &[Event]) -> Result<(), StoreError> {
    for event in events {
        record(w, event).await?;
    }
    Ok(())
}

macro_rules! event_columns {
    () => {
        "id, type, occurred_at, data, service_id, provider_id, booking_id, customer_id, \
         booking_sequence"
    };
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: Uuid,
    #[sqlx(rename = "type")]
    kind: String,
    occurred_at: DateTime<Utc>,
    data: String,
    service_id: Option<Uuid>,
    provider_id: Option<Uuid>,
    booking_id: Option<Uuid>,
    customer_id: Option<Uuid>,
    booking_sequence: Option<i64>,
}

impl Row for EventRow {
    type Value = Event;

    fn value(self) -> Result<Event, StoreError> {
        Ok(Event {
            id: self.id,
            kind: EventType::parse(&self.kind)
                .ok_or_else(|| super::corrupt(&format!("event type `{}`", self.kind)))?,
            occurred_at: self.occurred_at,
            data: serde_json::from_str(&self.data).map_err(|_| super::corrupt("event data"))?,
            subject: Subject {
                service_id: self.service_id,
                provider_id: self.provider_id,
                booking_id: self.booking_id,
                customer_id: self.customer_id,
                booking_sequence: self.booking_sequence,
            },
        })
    }
}

/// The oldest events not yet turned into messages, in the order they were written. On
/// PostgreSQL they stay locked until this transaction ends, and another instance passes over
/// them, so each event is dispatched once.
pub async fn undispatched(w: &mut Writer, limit: u32) -> Result<Vec<Event>, StoreError> {
    let text = match w.dialect() {
        Dialect::Sqlite => concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE dispatched_at IS NULL ORDER BY seq LIMIT $1"
        ),
        Dialect::Postgres => concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE dispatched_at IS NULL ORDER BY seq LIMIT $1 \
             FOR UPDATE SKIP LOCKED"
        ),
    };
    w.fetch_values::<EventRow>(query(text).bind(limit)).await
}

pub async fn mark_dispatched(
    w: &mut Writer,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    w.execute(
        query("UPDATE events SET dispatched_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now),
    )
    .await
    .map(drop)
}

/// Every event about a booking, oldest first (for tests and the admin's view of a booking).
pub async fn of_booking(r: &mut impl Read, booking_id: Uuid) -> Result<Vec<Event>, StoreError> {
    r.fetch_values::<EventRow>(
        query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE booking_id = $1 ORDER BY seq"
        ))
        .bind(booking_id),
    )
    .await
}
