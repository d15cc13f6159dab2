//! iCalendar (RFC 5545): what an event says, the feed built from events, and the invitation a
//! mail carries (iTIP, RFC 5546). A booking's VEVENT is the same in both, with the same UID and
//! SEQUENCE, so a calendar updates one entry instead of piling up copies.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, EventLike, EventStatus, Property};
use uuid::Uuid;

use super::booking::{Booking, BookingStatus};

/// One VEVENT: a booking (for a customer) or a session (for a provider).
#[derive(Debug, Clone)]
pub struct CalendarEvent {
    /// Stable across changes, so calendars update the event instead of adding another.
    pub uid: String,
    /// The title calendars show.
    pub summary: String,
    pub description: String,
    pub location: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Kept in the feed as `STATUS:CANCELLED`, so calendars strike it out.
    pub cancelled: bool,
    /// Bumped on every change.
    pub sequence: i64,
    pub last_modified: DateTime<Utc>,
    /// The page of the booking or session on this server.
    pub url: Option<String>,
}

impl CalendarEvent {
    /// A booking's event, as its customer's feed and mails show it: `host` is the public URL's
    /// (the UID's right-hand side), `url` the booking's page.
    pub fn of_booking(
        booking: &Booking,
        service_description: &str,
        host: &str,
        url: Option<String>,
    ) -> Self {
        let details = &booking.session_details;
        Self {
            uid: booking_uid(booking.id, host),
            summary: booking.service_name.clone(),
            description: describe(
                service_description,
                &details.additional_information,
                booking.notes.as_deref(),
                booking.cancellation_reason.as_deref(),
            ),
            location: details.location.clone(),
            starts_at: details.time.start,
            ends_at: details.time.end,
            cancelled: booking.status == BookingStatus::Cancelled,
            sequence: booking.sequence,
            last_modified: booking.updated_at,
            url,
        }
    }
}

/// A booking's UID: the same in the feed and in every mail about it, under the public URL's
/// host, so no two installations' events collide.
pub fn booking_uid(id: Uuid, host: &str) -> String {
    format!("booking-{id}@{host}")
}

pub fn session_uid(id: Uuid, host: &str) -> String {
    format!("session-{id}@{host}")
}

/// The event's description: what the service is, the session's information lines, the
/// customer's notes, and why it was cancelled.
pub fn describe(
    service_description: &str,
    information: &[String],
    notes: Option<&str>,
    cancellation_reason: Option<&str>,
) -> String {
    let mut lines: Vec<String> = Some(service_description.trim())
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
        .into_iter()
        .collect();
    lines.extend(information.iter().cloned());
    if let Some(notes) = notes {
        lines.push(format!("Notes: {notes}"));
    }
    if let Some(reason) = cancellation_reason {
        lines.push(format!("Cancelled: {reason}"));
    }
    lines.join("\n")
}

/// A calendar that names Kairos as its producer.
fn calendar() -> Calendar {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new(
            "PRODID",
            concat!("-//Kairos//Kairos ", env!("CARGO_PKG_VERSION"), "//EN"),
        ))
        .append_property(Property::new("CALSCALE", "GREGORIAN"));
    calendar
}

fn vevent(event: &CalendarEvent) -> icalendar::Event {
    let mut vevent = icalendar::Event::new();
    vevent
        .uid(&event.uid)
        .summary(&event.summary)
        .starts(event.starts_at)
        .ends(event.ends_at)
        .timestamp(event.last_modified)
        .last_modified(event.last_modified)
        .sequence(u32::try_from(event.sequence).unwrap_or(u32::MAX))
        .status(if event.cancelled {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        });
    if !event.description.is_empty() {
        vevent.description(&event.description);
    }
    if !event.location.is_empty() {
        vevent.location(&event.location);
    }
    if let Some(url) = &event.url {
        vevent.url(url);
    }
    vevent
}

/// The feed. Times are written in UTC; `DTSTAMP` is the event's last change, so the text (and its
/// ETag) changes only when an event does.
pub fn render_feed(name: &str, events: &[CalendarEvent]) -> String {
    let mut calendar = calendar();
    calendar.name(name);
    for event in events {
        calendar.push(vevent(event).done());
    }
    calendar.done().to_string()
}

/// What an invitation asks of the calendar that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Add the event, or update it (a higher SEQUENCE).
    Request,
    /// Remove it.
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// An iTIP message (RFC 5546) for one event: `METHOD` inside, the sending address as
/// `ORGANIZER`, the customer as `ATTENDEE`.
pub fn render_invitation(
    method: Method,
    event: &CalendarEvent,
    organizer: &str,
    attendee: &str,
) -> String {
    let mut calendar = calendar();
    calendar.append_property(Property::new("METHOD", method.as_str()));
    let mut vevent = vevent(event);
    vevent.append_property(
        Property::new("ORGANIZER", format!("mailto:{organizer}"))
            .add_parameter("CN", "Kairos")
            .done(),
    );
    vevent.append_property(
        Property::new("ATTENDEE", format!("mailto:{attendee}"))
            .add_parameter("ROLE", "REQ-PARTICIPANT")
            .add_parameter(
                "PARTSTAT",
                match method {
                    Method::Request => "ACCEPTED",
                    Method::Cancel => "DECLINED",
                },
            )
            .add_parameter("RSVP", "FALSE")
            .done(),
    );
    calendar.push(vevent.done());
    calendar.done().to_string()
}
