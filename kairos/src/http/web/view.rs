//! What the templates show: bookings, services and sessions as text, times in the service's own
//! time zone. Templates hold no logic beyond showing these.

use uuid::Uuid;

pub use crate::domain::local_time::{clock_range, local_date, parse_local, when};
use crate::domain::{
    booking::{Booking, BookingStatus},
    service::{Service, ServiceCounts, ServiceStatus},
    session::{Session, SessionStatus},
};

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
    /// "1440, 60 minutes before", or "none".
    pub reminders: String,
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
            reminders: if service.reminder_minutes.is_empty() {
                "none".to_owned()
            } else {
                let minutes: Vec<String> = service
                    .reminder_minutes
                    .iter()
                    .map(i64::to_string)
                    .collect();
                format!("{} minutes before", minutes.join(", "))
            },
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
    pub waiting: i64,
    /// The viewer's place in its waitlist, where a page shows it.
    pub my_position: Option<i64>,
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
            waiting: session.waiting,
            my_position: None,
            is_cancelled: session.status == SessionStatus::Cancelled,
            is_full: session.spots_left == 0,
        }
    }
}
