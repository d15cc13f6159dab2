//! The forms a provider fills in for services and sessions, as typed (text, so a bad number
//! comes back next to its field), and the use cases' inputs they make.

use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    forms::{FormErrors, number, optional},
    view::parse_local,
};
use crate::{
    app::{NewSessions, ServiceDraft},
    domain::{
        service::{Service, ServiceSpec},
        session::{Repeat, Weekday},
    },
};

/// The service form's fields as typed: text, so a bad number comes back next to its field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceForm {
    /// The draft being edited; empty for a new service.
    pub id: Option<String>,
    pub name: String,
    pub description: String,
    /// Numbers as typed: one that is not a number is reported next to its field.
    pub duration_minutes: String,
    pub capacity: String,
    pub location: String,
    pub time_zone: String,
    pub booking_notice_minutes: String,
    pub cancellation_notice_minutes: String,
    /// Minutes before the start, separated by commas or spaces; empty for no reminders, absent
    /// to keep them as they are (the default for a new service).
    #[serde(default)]
    pub reminder_minutes: Option<String>,
    /// `on` or `off` (a choice, not a checkbox, so absent means "as it is").
    #[serde(default)]
    pub waitlist: Option<String>,
}

impl ServiceForm {
    pub fn of(spec: &ServiceSpec, id: Option<Uuid>) -> Self {
        Self {
            id: id.map(|id| id.to_string()),
            name: spec.name.clone(),
            description: spec.description.clone(),
            duration_minutes: spec.duration_minutes.to_string(),
            capacity: spec.capacity.to_string(),
            location: spec.location.clone(),
            time_zone: spec.time_zone.clone(),
            booking_notice_minutes: spec.booking_notice_minutes.to_string(),
            cancellation_notice_minutes: spec.cancellation_notice_minutes.to_string(),
            reminder_minutes: Some(
                spec.reminder_minutes
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            waitlist: Some(if spec.waitlist_enabled { "on" } else { "off" }.to_owned()),
        }
    }

    /// The API's fields, or the numbers that are not numbers.
    pub fn fields(&self) -> Result<ServiceDraft, FormErrors> {
        let mut errors = FormErrors::default();
        let duration = number(&self.duration_minutes, "durationMinutes", &mut errors);
        let capacity = number(&self.capacity, "capacity", &mut errors);
        let booking_notice = number(
            &self.booking_notice_minutes,
            "bookingNoticeMinutes",
            &mut errors,
        );
        let cancellation_notice = number(
            &self.cancellation_notice_minutes,
            "cancellationNoticeMinutes",
            &mut errors,
        );
        let reminders: Option<Vec<Option<i64>>> = self.reminder_minutes.as_ref().map(|typed| {
            typed
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|m| !m.is_empty())
                .map(|m| number(m, "reminderMinutes", &mut errors))
                .collect()
        });
        let id = match optional(self.id.clone()).map(|id| id.parse::<Uuid>()) {
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => {
                errors.field("name", "this form is out of date; start again");
                None
            }
            None => None,
        };
        let waitlist = match self.waitlist.as_deref() {
            None => None,
            Some("on") => Some(true),
            Some("off") => Some(false),
            Some(_) => {
                errors.field("waitlistEnabled", "choose on or off");
                None
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ServiceDraft {
            id,
            name: Some(self.name.clone()),
            description: Some(self.description.clone()),
            duration_minutes: duration,
            capacity,
            location: Some(self.location.clone()),
            time_zone: Some(self.time_zone.clone()),
            booking_notice_minutes: booking_notice,
            cancellation_notice_minutes: cancellation_notice,
            reminder_minutes: reminders.and_then(|typed| typed.into_iter().collect()),
            waitlist_enabled: waitlist,
        })
    }
}

/// The add-sessions form as typed. Weekdays are checkboxes named after the day.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionForm {
    /// A `datetime-local` value, read in the service's time zone.
    pub starts_at: String,
    pub duration_minutes: String,
    pub capacity: String,
    pub location: String,
    /// One line of additional information per line.
    pub information: String,
    /// Ticked weekdays make a weekly series.
    pub monday: Option<String>,
    pub tuesday: Option<String>,
    pub wednesday: Option<String>,
    pub thursday: Option<String>,
    pub friday: Option<String>,
    pub saturday: Option<String>,
    pub sunday: Option<String>,
    /// A series ends on this date, or after `count` sessions.
    pub until: String,
    pub count: String,
}

impl SessionForm {
    pub fn defaults(service: &Service) -> Self {
        Self {
            duration_minutes: service.duration_minutes.to_string(),
            capacity: service.capacity.to_string(),
            location: service.location.clone(),
            ..Self::default()
        }
    }

    fn weekdays(&self) -> Vec<Weekday> {
        [
            (&self.monday, Weekday::Monday),
            (&self.tuesday, Weekday::Tuesday),
            (&self.wednesday, Weekday::Wednesday),
            (&self.thursday, Weekday::Thursday),
            (&self.friday, Weekday::Friday),
            (&self.saturday, Weekday::Saturday),
            (&self.sunday, Weekday::Sunday),
        ]
        .into_iter()
        .filter(|(ticked, _)| ticked.is_some())
        .map(|(_, day)| day)
        .collect()
    }

    /// The API's request: the start is local time in the service's zone.
    pub fn request(&self, service: &Service) -> Result<NewSessions, FormErrors> {
        let mut errors = FormErrors::default();
        let starts_at = parse_local(&self.starts_at, &service.time_zone);
        if starts_at.is_none() {
            errors.field("startsAt", "pick a date and time");
        }
        let minutes = number(&self.duration_minutes, "durationMinutes", &mut errors);
        let capacity = number(&self.capacity, "capacity", &mut errors);
        let weekdays = self.weekdays();
        let until = optional(Some(self.until.clone())).map(|d| d.parse::<NaiveDate>());
        let count = optional(Some(self.count.clone())).map(|c| c.parse::<u32>());
        if matches!(until, Some(Err(_))) {
            errors.field("until", "is not a date");
        }
        if matches!(count, Some(Err(_))) {
            errors.field("count", "must be a whole number");
        }
        let (Some(starts_at), Some(minutes), true) = (starts_at, minutes, errors.is_empty()) else {
            return Err(errors);
        };
        let repeat = (!weekdays.is_empty()).then(|| Repeat {
            weekdays,
            until: until.and_then(Result::ok),
            count: count.and_then(Result::ok),
        });
        let information = self
            .information
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(NewSessions {
            starts_at,
            ends_at: Some(starts_at + Duration::minutes(minutes)),
            capacity,
            location: Some(self.location.clone()),
            additional_information: Some(information),
            repeat,
        })
    }
}
