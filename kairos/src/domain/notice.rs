//! Notices: what Kairos tells a person by mail about a booking, decided when the event is
//! dispatched and kept with the message, so a mail sent again says the same thing.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    booking::{Booking, CancelledBy, TimeRange},
    event::{BookingSource, EndedEntry, EventType},
    local_time::when,
};

/// Which side of the booking the mail is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    Customer,
    Provider,
}

/// What the mail is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeKind {
    Created,
    Moved,
    Cancelled,
    /// The booking starts in `reminder_minutes`.
    Reminder,
}

impl NoticeKind {
    /// The notice an event of this type makes, if it makes one.
    pub fn of_event(kind: EventType) -> Option<Self> {
        match kind {
            EventType::BookingCreated => Some(NoticeKind::Created),
            EventType::BookingMoved => Some(NoticeKind::Moved),
            EventType::BookingCancelled => Some(NoticeKind::Cancelled),
            // Customers of a moved or cancelled session hear of it through their bookings'
            // own events; completion and the catalogue's changes mail no one.
            _ => None,
        }
    }

    /// Who hears of it: the contract's list.
    pub fn audiences(self) -> &'static [Audience] {
        match self {
            NoticeKind::Created | NoticeKind::Moved | NoticeKind::Cancelled => {
                &[Audience::Customer, Audience::Provider]
            }
            NoticeKind::Reminder => &[Audience::Customer],
        }
    }

    /// The name messages are listed under (`confirmation`, `provider_cancelled`, ...).
    pub fn label(self, audience: Audience) -> &'static str {
        match (self, audience) {
            (NoticeKind::Created, Audience::Customer) => "confirmation",
            (NoticeKind::Moved, Audience::Customer) => "moved",
            (NoticeKind::Cancelled, Audience::Customer) => "cancelled",
            (NoticeKind::Reminder, _) => "reminder",
            (NoticeKind::Created, Audience::Provider) => "provider_created",
            (NoticeKind::Moved, Audience::Provider) => "provider_moved",
            (NoticeKind::Cancelled, Audience::Provider) => "provider_cancelled",
        }
    }
}

/// Everything a mail about a booking says: the booking as it was after the change, its
/// calendar SEQUENCE then, and the addresses it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    pub kind: NoticeKind,
    pub audience: Audience,
    /// The recipient's address.
    pub to: String,
    pub booking: Booking,
    /// What the service is, for the calendar entry's description.
    #[serde(default)]
    pub service_description: String,
    /// The booking's calendar SEQUENCE after the change (the feed's, so calendars update one
    /// entry).
    pub sequence: i64,
    pub customer_email: String,
    pub provider_email: String,
    /// For a move: when it was before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_time: Option<TimeRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<BookingSource>,
    /// For a reminder: how long before the start it was due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_minutes: Option<i64>,
}

impl Notice {
    /// "Booked: Morning yoga, Mon 07 Dec 2026, 09:00–10:00 (Europe/Berlin)": the service's name
    /// and when, as every mail's subject.
    pub fn subject(&self) -> String {
        let what = match (self.kind, self.audience) {
            (NoticeKind::Created, Audience::Customer) => "Booked",
            (NoticeKind::Moved, Audience::Customer) => "Moved",
            (NoticeKind::Cancelled, Audience::Customer) => "Cancelled",
            (NoticeKind::Reminder, _) => "Reminder",
            (NoticeKind::Created, Audience::Provider) => "New booking",
            (NoticeKind::Moved, Audience::Provider) => "Booking moved",
            (NoticeKind::Cancelled, Audience::Provider) => "Booking cancelled",
        };
        format!("{what}: {}, {}", self.booking.service_name, self.when())
    }

    /// When the booking is, in the service's time zone.
    pub fn when(&self) -> String {
        let details = &self.booking.session_details;
        when(details.time.start, details.time.end, &details.time_zone)
    }

    /// Who cancelled, in words, for a cancellation.
    pub fn cancelled_by(&self) -> Option<&'static str> {
        self.booking.cancelled_by.map(|by| match by {
            CancelledBy::Customer => "the customer",
            CancelledBy::Provider => "the provider",
            CancelledBy::Admin => "an administrator",
            CancelledBy::System => "Kairos",
        })
    }
}

/// The `Message-ID` of the mail an event makes for one side: the same every time it is sent, so
/// a mail sent again after a crash is recognisable as the same mail.
pub fn event_message_id(event_id: Uuid, audience: Audience, host: &str) -> String {
    let side = match audience {
        Audience::Customer => "customer",
        Audience::Provider => "provider",
    };
    format!("<event-{}.{side}@{host}>", event_id.simple())
}

/// What a message says: a notice about a booking, word that Kairos turned a webhook off, or that
/// a waitlist ended. Kept as JSON with the message; no two shapes share a required field, so
/// each reads back as what it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Letter {
    Booking(Box<Notice>),
    WebhookDisabled(WebhookNotice),
    WaitlistEnded(WaitlistNotice),
}

impl Letter {
    pub fn subject(&self) -> String {
        match self {
            Letter::Booking(notice) => notice.subject(),
            Letter::WebhookDisabled(notice) => format!("Webhook turned off: {}", notice.url),
            Letter::WaitlistEnded(notice) => {
                format!(
                    "Waitlist ended: {}, {}",
                    notice.ended.entry.service_name,
                    notice.when()
                )
            }
        }
    }
}

/// Someone was still waiting when a session's list ended: what the mail telling them says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitlistNotice {
    /// The recipient's address.
    pub to: String,
    pub ended: EndedEntry,
}

impl WaitlistNotice {
    /// When the session was to be, in the service's time zone.
    pub fn when(&self) -> String {
        let entry = &self.ended.entry;
        when(entry.starts_at, entry.ends_at, &entry.time_zone)
    }
}

/// Kairos turned a webhook off because every delivery to it failed for three days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookNotice {
    pub webhook_id: Uuid,
    pub owner_id: Uuid,
    pub url: String,
    pub failing_since: DateTime<Utc>,
    pub disabled_at: DateTime<Utc>,
}

/// The `Message-ID` of the mail saying a webhook was turned off (once per turning off).
pub fn webhook_disabled_message_id(webhook_id: Uuid, at: DateTime<Utc>, host: &str) -> String {
    format!(
        "<webhook-{}.off-{}@{host}>",
        webhook_id.simple(),
        at.timestamp()
    )
}

/// The `Message-ID` of a booking's reminder: one per booking and offset, ever.
pub fn reminder_message_id(booking_id: Uuid, minutes: i64, host: &str) -> String {
    format!("<reminder-{}.{minutes}@{host}>", booking_id.simple())
}

/// The host of the public URL (`https://book.example.org:8443/` gives `book.example.org`), the
/// right-hand side of every `Message-ID`.
pub fn mail_host(public_url: &str) -> String {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if host.starts_with('[') {
        // An IPv6 literal keeps its brackets: a domain literal in a Message-ID.
        host.split_once(']')
            .map_or(host, |(h, _)| &host[..=h.len()])
    } else {
        host.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        "localhost".to_owned()
    } else {
        host.to_ascii_lowercase()
    }
}

/// How long to wait before trying a message again after its `attempts`-th failed attempt:
/// about 1 min, 5 min, 30 min, 2 h, 6 h, 12 h; none after the seventh, which marks it failed.
pub fn retry_delay(attempts: i64) -> Option<Duration> {
    match attempts {
        1 => Some(Duration::minutes(1)),
        2 => Some(Duration::minutes(5)),
        3 => Some(Duration::minutes(30)),
        4 => Some(Duration::hours(2)),
        5 => Some(Duration::hours(6)),
        6 => Some(Duration::hours(12)),
        _ => None,
    }
}

/// When a booking's reminder `minutes` before its start is due, if it is to be sent at all: a
/// reminder whose moment had passed when the booking was made (or moved) is not.
pub fn reminder_due(
    starts_at: DateTime<Utc>,
    minutes: i64,
    changed_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let due = starts_at - Duration::minutes(minutes);
    (due > changed_at).then_some(due)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_grow_then_stop() {
        let waits: Vec<i64> = (1..=6)
            .filter_map(retry_delay)
            .map(|d| d.num_minutes())
            .collect();
        assert_eq!(waits, [1, 5, 30, 120, 360, 720]);
        assert_eq!(retry_delay(7), None);
    }

    #[test]
    fn a_reminder_already_past_is_not_due() {
        let start: DateTime<Utc> = "2026-12-07T09:00:00Z".parse().expect("time");
        let booked = start - Duration::hours(3);
        assert_eq!(
            reminder_due(start, 60, booked),
            Some(start - Duration::hours(1))
        );
        assert_eq!(reminder_due(start, 24 * 60, booked), None);
    }

    #[test]
    fn the_mail_host_is_the_public_urls_host() {
        assert_eq!(
            mail_host("https://Book.Example.org:8443/x"),
            "book.example.org"
        );
        assert_eq!(mail_host("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(mail_host("http://[::1]:8080/"), "[::1]");
        assert_eq!(mail_host("http://"), "localhost");
    }

    #[test]
    fn message_ids_are_stable_and_distinct_per_side() {
        let id = Uuid::now_v7();
        let customer = event_message_id(id, Audience::Customer, "kairos.example");
        assert_eq!(
            customer,
            event_message_id(id, Audience::Customer, "kairos.example")
        );
        assert_ne!(
            customer,
            event_message_id(id, Audience::Provider, "kairos.example")
        );
        assert!(customer.starts_with('<') && customer.ends_with("@kairos.example>"));
    }
}
