//! Services: what a provider offers, and the limits on each of its fields.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServiceStatus {
    /// Saved, not bookable, not in the catalogue.
    Draft,
    /// In the catalogue and bookable.
    Published,
    /// Withdrawn; kept because it has bookings.
    Archived,
}

impl ServiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceStatus::Draft => "draft",
            ServiceStatus::Published => "published",
            ServiceStatus::Archived => "archived",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "draft" => Some(ServiceStatus::Draft),
            "published" => Some(ServiceStatus::Published),
            "archived" => Some(ServiceStatus::Archived),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    pub id: Uuid,
    /// Who runs it.
    pub provider_id: Uuid,
    pub name: String,
    /// What a customer should know (plain text).
    pub description: String,
    /// How long a session lasts unless it says otherwise.
    pub duration_minutes: i64,
    /// Places per session unless a session says otherwise.
    pub capacity: i64,
    /// Where sessions take place unless a session says otherwise.
    pub location: String,
    /// IANA time zone; weekly series keep their local time across DST changes.
    #[schema(example = "Europe/Paris")]
    pub time_zone: String,
    pub status: ServiceStatus,
    /// No booking closer than this to a session's start.
    pub booking_notice_minutes: i64,
    /// Customers cannot cancel or move a booking closer than this to the start.
    pub cancellation_notice_minutes: i64,
    /// Each live booking is reminded by mail this many minutes before its start, once per
    /// entry (at most 3, each 1 to 43,200); `[]` for none.
    #[schema(max_items = 3, example = json!([1440, 60]))]
    pub reminder_minutes: Vec<i64>,
    /// Whether customers may wait for a place in a full session (default true).
    pub waitlist_enabled: bool,
    pub created_at: DateTime<Utc>,
    /// Edits compare it, so two editors at once cannot overwrite each other unseen.
    pub updated_at: DateTime<Utc>,
    /// When it first went into the catalogue; none for a draft.
    pub published_at: Option<DateTime<Utc>>,
}

/// What a provider's service holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCounts {
    /// Scheduled sessions that have not started.
    pub upcoming_sessions: i64,
    pub pending_bookings: i64,
    pub completed_bookings: i64,
    pub cancelled_bookings: i64,
}

/// The fields of a service a provider sets, validated together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    pub name: String,
    pub description: String,
    pub duration_minutes: i64,
    pub capacity: i64,
    pub location: String,
    pub time_zone: String,
    pub booking_notice_minutes: i64,
    pub cancellation_notice_minutes: i64,
    pub reminder_minutes: Vec<i64>,
    pub waitlist_enabled: bool,
}

/// Changes to some of a service's fields; absent fields keep their value.
#[derive(Debug, Clone, Default)]
pub struct ServiceChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub duration_minutes: Option<i64>,
    pub capacity: Option<i64>,
    pub location: Option<String>,
    pub time_zone: Option<String>,
    pub booking_notice_minutes: Option<i64>,
    pub cancellation_notice_minutes: Option<i64>,
    pub reminder_minutes: Option<Vec<i64>>,
    pub waitlist_enabled: Option<bool>,
}

pub const NAME_MAX: usize = 120;
pub const DESCRIPTION_MAX: usize = 5000;
pub const LOCATION_MAX: usize = 200;
pub const DURATION_RANGE: (i64, i64) = (5, 24 * 60);
pub const CAPACITY_RANGE: (i64, i64) = (1, 10_000);
/// Notices up to a year.
pub const NOTICE_RANGE: (i64, i64) = (0, 366 * 24 * 60);
/// Reminders from a minute to 30 days before the start, at most three of them.
pub const REMINDER_RANGE: (i64, i64) = (1, 30 * 24 * 60);
pub const REMINDERS_MAX: usize = 3;
/// A day before: what a customer expects when the provider has said nothing.
pub const DEFAULT_REMINDER_MINUTES: i64 = 24 * 60;

impl ServiceSpec {
    /// What a new service starts from: the template's defaults.
    pub fn defaults() -> Self {
        Self {
            name: String::new(),
            description: String::new(),
            duration_minutes: 60,
            capacity: 10,
            location: String::new(),
            time_zone: "UTC".to_owned(),
            booking_notice_minutes: 0,
            cancellation_notice_minutes: 0,
            reminder_minutes: vec![DEFAULT_REMINDER_MINUTES],
            waitlist_enabled: true,
        }
    }

    pub fn of(service: &Service) -> Self {
        Self {
            name: service.name.clone(),
            description: service.description.clone(),
            duration_minutes: service.duration_minutes,
            capacity: service.capacity,
            location: service.location.clone(),
            time_zone: service.time_zone.clone(),
            booking_notice_minutes: service.booking_notice_minutes,
            cancellation_notice_minutes: service.cancellation_notice_minutes,
            reminder_minutes: service.reminder_minutes.clone(),
            waitlist_enabled: service.waitlist_enabled,
        }
    }

    /// This spec with the changes applied, if every field of the result is valid.
    pub fn apply(self, changes: ServiceChanges) -> Result<Self, Vec<FieldError>> {
        let spec = Self {
            name: changes.name.map_or(self.name, |n| n.trim().to_owned()),
            description: changes
                .description
                .map_or(self.description, |d| d.trim().to_owned()),
            duration_minutes: changes.duration_minutes.unwrap_or(self.duration_minutes),
            capacity: changes.capacity.unwrap_or(self.capacity),
            location: changes
                .location
                .map_or(self.location, |l| l.trim().to_owned()),
            time_zone: changes
                .time_zone
                .map_or(self.time_zone, |t| t.trim().to_owned()),
            booking_notice_minutes: changes
                .booking_notice_minutes
                .unwrap_or(self.booking_notice_minutes),
            cancellation_notice_minutes: changes
                .cancellation_notice_minutes
                .unwrap_or(self.cancellation_notice_minutes),
            reminder_minutes: changes.reminder_minutes.unwrap_or(self.reminder_minutes),
            waitlist_enabled: changes.waitlist_enabled.unwrap_or(self.waitlist_enabled),
        };
        let mut errors = Vec::new();
        let mut check = |ok: bool, field: &str, message: String| {
            if !ok {
                errors.push(FieldError::new(field, message));
            }
        };
        let chars = |s: &str| s.chars().count();
        check(!spec.name.is_empty(), "name", "is required".into());
        check(
            chars(&spec.name) <= NAME_MAX,
            "name",
            format!("must be at most {NAME_MAX} characters"),
        );
        check(
            chars(&spec.description) <= DESCRIPTION_MAX,
            "description",
            format!("must be at most {DESCRIPTION_MAX} characters"),
        );
        check(
            chars(&spec.location) <= LOCATION_MAX,
            "location",
            format!("must be at most {LOCATION_MAX} characters"),
        );
        check(
            in_range(spec.duration_minutes, DURATION_RANGE),
            "durationMinutes",
            range_message(DURATION_RANGE),
        );
        check(
            in_range(spec.capacity, CAPACITY_RANGE),
            "capacity",
            range_message(CAPACITY_RANGE),
        );
        check(
            in_range(spec.booking_notice_minutes, NOTICE_RANGE),
            "bookingNoticeMinutes",
            range_message(NOTICE_RANGE),
        );
        check(
            in_range(spec.cancellation_notice_minutes, NOTICE_RANGE),
            "cancellationNoticeMinutes",
            range_message(NOTICE_RANGE),
        );
        for (field, text) in [
            ("name", &spec.name),
            ("description", &spec.description),
            ("location", &spec.location),
            ("timeZone", &spec.time_zone),
        ] {
            check(!super::has_nul(text), field, super::NUL_MESSAGE.into());
        }
        let reminders = &spec.reminder_minutes;
        check(
            reminders.len() <= REMINDERS_MAX,
            "reminderMinutes",
            format!("at most {REMINDERS_MAX} reminders"),
        );
        check(
            reminders.iter().all(|m| in_range(*m, REMINDER_RANGE)),
            "reminderMinutes",
            format!("each {}", range_message(REMINDER_RANGE)),
        );
        check(
            reminders
                .iter()
                .enumerate()
                .all(|(i, m)| !reminders[..i].contains(m)),
            "reminderMinutes",
            "each reminder once".into(),
        );
        check(
            jiff::tz::TimeZone::get(&spec.time_zone).is_ok(),
            "timeZone",
            "is not an IANA time zone name (such as Europe/Paris)".into(),
        );
        if errors.is_empty() {
            Ok(spec)
        } else {
            Err(errors)
        }
    }
}

fn in_range(value: i64, (min, max): (i64, i64)) -> bool {
    (min..=max).contains(&value)
}

fn range_message((min, max): (i64, i64)) -> String {
    format!("must be between {min} and {max}")
}

/// One field of the service template: "the tools to create a service".
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateField {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub required: bool,
    pub default: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    pub description: &'static str,
}

/// Every field a service has, with its default and its limits.
pub fn template_fields() -> Vec<TemplateField> {
    let d = ServiceSpec::defaults();
    let text = |name, required, max, description| TemplateField {
        name,
        kind: "string",
        required,
        default: serde_json::Value::String(String::new()),
        minimum: None,
        maximum: None,
        max_length: Some(max),
        description,
    };
    let number = |name, default: i64, (min, max): (i64, i64), description| TemplateField {
        name,
        kind: "integer",
        required: false,
        default: default.into(),
        minimum: Some(min),
        maximum: Some(max),
        max_length: None,
        description,
    };
    vec![
        text("name", true, NAME_MAX, "What the service is called"),
        text(
            "description",
            false,
            DESCRIPTION_MAX,
            "What a customer should know",
        ),
        number(
            "durationMinutes",
            d.duration_minutes,
            DURATION_RANGE,
            "How long a session lasts",
        ),
        number(
            "capacity",
            d.capacity,
            CAPACITY_RANGE,
            "Places per session unless a session says otherwise",
        ),
        text(
            "location",
            false,
            LOCATION_MAX,
            "Where sessions take place unless a session says otherwise",
        ),
        TemplateField {
            name: "timeZone",
            kind: "string",
            required: false,
            default: d.time_zone.into(),
            minimum: None,
            maximum: None,
            max_length: None,
            description: "IANA time zone in which weekly series keep their local time",
        },
        number(
            "bookingNoticeMinutes",
            d.booking_notice_minutes,
            NOTICE_RANGE,
            "No booking closer than this to the start",
        ),
        number(
            "cancellationNoticeMinutes",
            d.cancellation_notice_minutes,
            NOTICE_RANGE,
            "Customers cannot cancel or move a booking closer than this to the start",
        ),
        TemplateField {
            name: "reminderMinutes",
            kind: "array",
            required: false,
            default: d.reminder_minutes.into(),
            minimum: Some(REMINDER_RANGE.0),
            maximum: Some(REMINDER_RANGE.1),
            max_length: Some(REMINDERS_MAX),
            description: "Minutes before the start at which each booking is reminded by mail \
                          (at most 3; [] for none)",
        },
        TemplateField {
            name: "waitlistEnabled",
            kind: "boolean",
            required: false,
            default: d.waitlist_enabled.into(),
            minimum: None,
            maximum: None,
            max_length: None,
            description: "Whether customers may wait for a place in a full session",
        },
    ]
}

#[cfg(test)]
mod tests;
