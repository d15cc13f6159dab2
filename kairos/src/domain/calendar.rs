//! iCalendar (RFC 5545) feeds: what an event says, and the feed text built from events.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, EventLike, EventStatus};

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
}

/// The feed. Times are written in UTC; `DTSTAMP` is the event's last change, so the text (and its
/// ETag) changes only when an event does.
pub fn render_feed(name: &str, events: &[CalendarEvent]) -> String {
    let mut calendar = Calendar::new();
    calendar.name(name);
    for event in events {
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
        calendar.push(vevent.done());
    }
    calendar.done().to_string()
}
