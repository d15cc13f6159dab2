//! The event log (the transactional outbox): events are written by the operation whose change
//! they tell of, inside its transaction, and taken from here to be turned into messages.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    Read, Row, StoreError, Writer, query,
    query::{MAX_REPEATS, Repeated, repeated_texts},
    record,
};
use crate::domain::event::{Event, EventType, Subject};

/// Records the event in the writer's transaction: it commits with the change, or not at all.
/// Events wait in the writer and go in with one statement just before the commit ([`flush`]):
/// a batch of bookings would otherwise run one insert each through SQLite's single writer (and
/// one round trip each on PostgreSQL).
pub fn record(w: &mut Writer, event: Event) {
    w.events.push(event);
    w.outbox_changed();
}

/// Records each event, in order.
pub fn record_all(w: &mut Writer, events: impl IntoIterator<Item = Event>) {
    for event in events {
        record(w, event);
    }
}

static INSERT: Repeated = Repeated::new(|| {
    repeated_texts(
        "INSERT INTO events (id, type, occurred_at, data, service_id, provider_id, booking_id, \
         customer_id, booking_sequence) VALUES ",
        "({}, {}, {}, {}, {}, {}, {}, {}, {})",
        ", ",
        "",
        1,
    )
});

/// Writes the events recorded in this transaction, in the order they were recorded. The
/// writers call it just before they commit.
pub(crate) async fn flush(w: &mut Writer) -> Result<(), StoreError> {
    let events = std::mem::take(&mut w.events);
    for chunk in events.chunks(MAX_REPEATS) {
        let mut insert = INSERT.query(chunk.len());
        for event in chunk {
            let subject = &event.subject;
            insert = insert
                .bind(event.id)
                .bind(event.kind.as_str())
                .bind(event.occurred_at)
                .bind(event.data.clone())
                .bind(subject.service_id)
                .bind(subject.provider_id)
                .bind(subject.booking_id)
                .bind(subject.customer_id)
                .bind(subject.booking_sequence);
        }
        w.execute(insert).await?;
    }
    Ok(())
}

macro_rules! event_columns {
    () => {
        "id, type AS kind, occurred_at, data, service_id, provider_id, booking_id, customer_id, \
         booking_sequence"
    };
}

record! {
    struct EventRow {
        id: Uuid,
        kind: String,
        occurred_at: DateTime<Utc>,
        data: String,
        service_id: Option<Uuid>,
        provider_id: Option<Uuid>,
        booking_id: Option<Uuid>,
        customer_id: Option<Uuid>,
        booking_sequence: Option<i64>,
    }
}

impl Row for EventRow {
    type Value = Event;

    fn value(self) -> Result<Event, StoreError> {
        Ok(Event {
            id: self.id,
            kind: EventType::parse(&self.kind)
                .ok_or_else(|| super::corrupt(&format!("event type `{}`", self.kind)))?,
            occurred_at: self.occurred_at,
            data: self.data,
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

/// The oldest events not yet turned into messages, in the order they were written. Several
/// instances may read the same ones: what they make of them is unique (a message per event and
/// side, a reminder per booking and offset), so the second changes nothing.
pub async fn undispatched(r: &mut impl Read, limit: u32) -> Result<Vec<Event>, StoreError> {
    r.fetch_values::<EventRow>(
        query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE dispatched_at IS NULL ORDER BY seq LIMIT $1"
        ))
        .bind(limit),
    )
    .await
}

static MARK_DISPATCHED: Repeated = Repeated::new(|| {
    repeated_texts(
        "UPDATE events SET dispatched_at = $1 WHERE dispatched_at IS NULL AND id IN (",
        "{}",
        ", ",
        ")",
        2,
    )
});

pub async fn mark_dispatched(
    w: &mut Writer,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in ids.chunks(MAX_REPEATS) {
        let update = chunk
            .iter()
            .fold(MARK_DISPATCHED.query(chunk.len()).bind(now), |q, id| {
                q.bind(*id)
            });
        w.execute(update).await?;
    }
    Ok(())
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
