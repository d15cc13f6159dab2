//! Domain events: what changed, told to the world (mail now, webhooks next). Each is written in
//! the transaction of the change it tells of, so a committed change always has its event and a
//! rolled-back one never does.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    booking::{Booking, TimeRange},
    id::new_id,
    service::Service,
    session::Session,
    waitlist::{ListEnd, WaitlistEntry},
};

/// What happened, named as webhooks and the outbox show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    #[serde(rename = "booking.created")]
    BookingCreated,
    #[serde(rename = "booking.moved")]
    BookingMoved,
    #[serde(rename = "booking.cancelled")]
    BookingCancelled,
    #[serde(rename = "booking.completed")]
    BookingCompleted,
    #[serde(rename = "session.moved")]
    SessionMoved,
    #[serde(rename = "session.cancelled")]
    SessionCancelled,
    #[serde(rename = "service.published")]
    ServicePublished,
    #[serde(rename = "service.archived")]
    ServiceArchived,
    #[serde(rename = "waitlist.ended")]
    WaitlistEnded,
}

impl EventType {
    pub const ALL: [EventType; 9] = [
        EventType::BookingCreated,
        EventType::BookingMoved,
        EventType::BookingCancelled,
        EventType::BookingCompleted,
        EventType::SessionMoved,
        EventType::SessionCancelled,
        EventType::ServicePublished,
        EventType::ServiceArchived,
        EventType::WaitlistEnded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::BookingCreated => "booking.created",
            EventType::BookingMoved => "booking.moved",
            EventType::BookingCancelled => "booking.cancelled",
            EventType::BookingCompleted => "booking.completed",
            EventType::SessionMoved => "session.moved",
            EventType::SessionCancelled => "session.cancelled",
            EventType::ServicePublished => "service.published",
            EventType::ServiceArchived => "service.archived",
            EventType::WaitlistEnded => "waitlist.ended",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

/// How a booking came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BookingSource {
    /// The customer booked it.
    Customer,
    /// A place freed up and the first person waiting got it.
    Waitlist,
}

/// Who and what an event concerns, kept beside its data so it can be routed (to the customer,
/// the provider, a provider's webhooks) without reading the data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub service_id: Option<Uuid>,
    pub provider_id: Option<Uuid>,
    pub booking_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    /// The booking's calendar SEQUENCE after the change.
    pub booking_sequence: Option<i64>,
}

/// One event: an id (UUID v7, so ids sort by time), its type, when, and its data as the API
/// shows the thing it is about (JSON text, written once and sent as it is).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: Uuid,
    pub kind: EventType,
    pub occurred_at: DateTime<Utc>,
    pub data: String,
    pub subject: Subject,
}

/// What a booking event's data says beside the booking.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingExtras {
    /// `booking.created`: how it came about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<BookingSource>,
    /// `booking.moved`: the session it was in (its own, if the session itself moved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_session_id: Option<Uuid>,
    /// `booking.moved`: when it was before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_time: Option<TimeRange>,
}

/// The booking as the API shows it, with the event's extras beside its fields.
#[derive(Serialize)]
struct BookingData<'a> {
    #[serde(flatten)]
    booking: &'a Booking,
    #[serde(flatten)]
    extras: BookingExtras,
}

/// A `waitlist.ended` event's data: the entry as the API showed it (its `position` when the list
/// ended), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedEntry {
    #[serde(flatten)]
    pub entry: WaitlistEntry,
    pub reason: ListEnd,
}

impl Event {
    /// A booking event's booking and extras, read back from its data.
    pub fn booking(&self) -> Option<(Booking, BookingExtras)> {
        let booking = serde_json::from_str(&self.data).ok()?;
        let extras = serde_json::from_str(&self.data).ok()?;
        Some((booking, extras))
    }

    /// A `waitlist.ended` event's entry and reason, read back from its data.
    pub fn ended_entry(&self) -> Option<EndedEntry> {
        (self.kind == EventType::WaitlistEnded)
            .then(|| serde_json::from_str(&self.data).ok())
            .flatten()
    }
}

impl Event {
    fn new(kind: EventType, at: DateTime<Utc>, data: String, subject: Subject) -> Self {
        Self {
            id: new_id(),
            kind,
            occurred_at: at,
            data,
            subject,
        }
    }

    fn about_booking(
        kind: EventType,
        booking: &Booking,
        at: DateTime<Utc>,
        extras: BookingExtras,
    ) -> Self {
        let data = to_json(&BookingData { booking, extras });
        let subject = Subject {
            service_id: Some(booking.service_id),
            provider_id: Some(booking.provider_id),
            booking_id: Some(booking.id),
            customer_id: Some(booking.user_id),
            booking_sequence: Some(booking.sequence),
        };
        Self::new(kind, at, data, subject)
    }

    pub fn booking_created(booking: &Booking, source: BookingSource, at: DateTime<Utc>) -> Self {
        let extras = BookingExtras {
            source: Some(source),
            ..BookingExtras::default()
        };
        Self::about_booking(EventType::BookingCreated, booking, at, extras)
    }

    /// A booking now in another session, or in its own session at a new time (the session was
    /// moved): `previousSessionId` and `previousTime` say where it was.
    pub fn booking_moved(
        booking: &Booking,
        previous_session_id: Uuid,
        previous_time: &TimeRange,
        at: DateTime<Utc>,
    ) -> Self {
        let extras = BookingExtras {
            previous_session_id: Some(previous_session_id),
            previous_time: Some(previous_time.clone()),
            ..BookingExtras::default()
        };
        Self::about_booking(EventType::BookingMoved, booking, at, extras)
    }

    pub fn booking_cancelled(booking: &Booking, at: DateTime<Utc>) -> Self {
        Self::about_booking(
            EventType::BookingCancelled,
            booking,
            at,
            BookingExtras::default(),
        )
    }

    pub fn booking_completed(booking: &Booking, at: DateTime<Utc>) -> Self {
        Self::about_booking(
            EventType::BookingCompleted,
            booking,
            at,
            BookingExtras::default(),
        )
    }

    /// `session.moved` or `session.cancelled`.
    pub fn session(
        kind: EventType,
        session: &Session,
        provider_id: Uuid,
        at: DateTime<Utc>,
    ) -> Self {
        let subject = Subject {
            service_id: Some(session.service_id),
            provider_id: Some(provider_id),
            ..Subject::default()
        };
        Self::new(kind, at, to_json(session), subject)
    }

    /// `service.published` or `service.archived`.
    pub fn service(kind: EventType, service: &Service, at: DateTime<Utc>) -> Self {
        let subject = Subject {
            service_id: Some(service.id),
            provider_id: Some(service.provider_id),
            ..Subject::default()
        };
        Self::new(kind, at, to_json(service), subject)
    }

    /// `waitlist.ended`: the session's list ended with this person still on it.
    pub fn waitlist_ended(ended: &EndedEntry, provider_id: Uuid, at: DateTime<Utc>) -> Self {
        let entry = &ended.entry;
        let subject = Subject {
            service_id: Some(entry.service_id),
            provider_id: Some(provider_id),
            customer_id: Some(entry.user_id),
            ..Subject::default()
        };
        Self::new(EventType::WaitlistEnded, at, to_json(ended), subject)
    }
}

/// Our API types serialise to JSON without fail (no maps with non-string keys, no non-finite
/// floats); `null` would show a bug in the data instead of losing the event.
fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_read_back() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
            assert_eq!(to_json(&kind), format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(EventType::parse("booking.deleted"), None);
    }
}
