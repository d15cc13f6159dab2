//! What the templates show: bookings, services and sessions as text, times in the service's own
//! time zone. Templates hold no logic beyond showing these.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{
    booking::{Booking, BookingStatus},
    service::{Service, ServiceCounts, ServiceStatus},
    session::{Session, SessionStatus},
};

fn zoned(at: DateTime<Utc>, time_zone: &str) -> Option<jiff::Zoned> {
    let zone = jiff::tz::TimeZone::get(time_zone).ok()?;
    Some(
        jiff::Timestamp::from_microsecond(at.timestamp_micros())
            .ok()?
            .to_zoned(zone),
    )
}

/// "Mon 23 Nov 2026, 09:00–10:00 (Europe/Paris)".
pub fn when(start: DateTime<Utc>, end: DateTime<Utc>, time_zone: &str) -> String {
    match (zoned(start, time_zone), zoned(end, time_zone)) {
        (Some(s), Some(e)) => format!(
            "{}–{} ({time_zone})",
            s.strftime("%a %d %b %Y, %H:%M"),
            e.strftime("%H:%M")
        ),
        _ => format!(
            "{} – {} UTC",
            start.format("%a %d %b %Y, %H:%M"),
            end.format("%H:%M")
        ),
    }
}

/// The local date a time falls on in the zone, as `YYYY-MM-DD`.
pub fn local_date(at: DateTime<Utc>, time_zone: &str) -> String {
    zoned(at, time_zone).map_or_else(
        || at.format("%Y-%m-%d").to_string(),
        |z| z.date().to_string(),
    )
}

/// "09:00–10:00".
pub fn clock_range(start: DateTime<Utc>, end: DateTime<Utc>, time_zone: &str) -> String {
    match (zoned(start, time_zone), zoned(end, time_zone)) {
        (Some(s), Some(e)) => format!("{}–{}", s.strftime("%H:%M"), e.strftime("%H:%M")),
        _ => format!("{}–{} UTC", start.format("%H:%M"), end.format("%H:%M")),
    }
}

/// A `datetime-local` input's text (no zone) read in the service's time zone.
pub fn parse_local(text: &str, time_zone: &str) -> Option<DateTime<Utc>> {
    let civil: jiff::civil::DateTime = text.trim().parse().ok()?;
    let zone = jiff::tz::TimeZone::get(time_zone).ok()?;
    let zoned = civil.to_zoned(zone).ok()?;
    DateTime::from_timestamp_micros(zoned.timestamp().as_microsecond())
}

#[derive(Debug, Clone)]
pub struct BookingView {
    pub id: Uuid,
    /// The booking's page, under the path of the user looking.
    pub path: String,
    pub service_id: Uuid,
    pub service_name: String,
    pub when: String,
    pub location: String,
    pub information: Vec<String>,
    pub status: &'static str,
    pub is_pending: bool,
    pub notes: String,
    pub cancellation: String,
}

impl BookingView {
    pub fn of(booking: &Booking, viewer_path: Uuid) -> Self {
        let details = &booking.session_details;
        let cancellation = match (&booking.cancelled_by, &booking.cancellation_reason) {
            (Some(by), Some(reason)) => format!("Cancelled by the {}: {reason}", by.as_str()),
            (Some(by), None) => format!("Cancelled by the {}", by.as_str()),
            _ => String::new(),
        };
        Self {
            id: booking.id,
            path: format!("/user/{viewer_path}/bookings/{}", booking.id),
            service_id: booking.service_id,
            service_name: booking.service_name.clone(),
            when: when(details.time.start, details.time.end, &details.time_zone),
            location: details.location.clone(),
            information: details.additional_information.clone(),
            status: booking.status.as_str(),
            is_pending: booking.status == BookingStatus::Pending,
            notes: booking.notes.clone().unwrap_or_default(),
            cancellation,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServiceView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub status: &'static str,
    pub is_draft: bool,
    pub is_archived: bool,
    pub location: String,
    pub time_zone: String,
    pub duration_minutes: i64,
    pub capacity: i64,
    pub booking_notice_minutes: i64,
    pub cancellation_notice_minutes: i64,
    pub counts: Option<ServiceCounts>,
}

impl ServiceView {
    pub fn of(service: &Service, counts: Option<ServiceCounts>) -> Self {
        Self {
            id: service.id,
            name: service.name.clone(),
            description: service.description.clone(),
            status: service.status.as_str(),
            is_draft: service.status == ServiceStatus::Draft,
            is_archived: service.status == ServiceStatus::Archived,
            location: service.location.clone(),
            time_zone: service.time_zone.clone(),
            duration_minutes: service.duration_minutes,
            capacity: service.capacity,
            booking_notice_minutes: service.booking_notice_minutes,
            cancellation_notice_minutes: service.cancellation_notice_minutes,
            counts,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SessionView {
    pub id: Uuid,
    pub when: String,
    pub location: String,
    pub information: Vec<String>,
    pub booked: i64,
    pub capacity: i64,
    pub spots_left: i64,
    pub is_cancelled: bool,
    pub is_full: bool,
}

impl SessionView {
    pub fn of(session: &Session, time_zone: &str) -> Self {
        Self {
            id: session.id,
            when: when(session.starts_at, session.ends_at, time_zone),
            location: session.location.clone(),
            information: session.additional_information.clone(),
            booked: session.booked,
            capacity: session.capacity,
            spots_left: session.spots_left,
            is_cancelled: session.status == SessionStatus::Cancelled,
            is_full: session.spots_left == 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_show_in_the_services_zone() {
        let start: DateTime<Utc> = "2027-03-29T07:00:00Z".parse().expect("time");
        let end: DateTime<Utc> = "2027-03-29T08:00:00Z".parse().expect("time");
        assert_eq!(
            when(start, end, "Europe/Paris"),
            "Mon 29 Mar 2027, 09:00–10:00 (Europe/Paris)"
        );
        assert_eq!(parse_local("2027-03-29T09:00", "Europe/Paris"), Some(start));
        assert_eq!(local_date(start, "America/New_York"), "2027-03-29");
    }
}
