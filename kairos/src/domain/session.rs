//! Sessions (bookable times of a service) and weekly series computed in the service's time zone.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Scheduled,
    Cancelled,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Scheduled => "scheduled",
            SessionStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "scheduled" => Some(SessionStatus::Scheduled),
            "cancelled" => Some(SessionStatus::Cancelled),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: Uuid,
    pub service_id: Uuid,
    #[serde(serialize_with = "crate::domain::clock::serialize_time")]
    pub starts_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::clock::serialize_time")]
    pub ends_at: DateTime<Utc>,
    pub location: String,
    /// Places: live bookings never exceed it.
    pub capacity: i64,
    /// Live (pending or completed) bookings.
    pub booked: i64,
    pub spots_left: i64,
    /// How many wait for a place (see the waitlist routes).
    pub waiting: i64,
    /// Lines for those who come (what to bring, which door).
    pub additional_information: Vec<String>,
    pub status: SessionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub(crate) fn to_jiff(self) -> jiff::civil::Weekday {
        match self {
            Weekday::Monday => jiff::civil::Weekday::Monday,
            Weekday::Tuesday => jiff::civil::Weekday::Tuesday,
            Weekday::Wednesday => jiff::civil::Weekday::Wednesday,
            Weekday::Thursday => jiff::civil::Weekday::Thursday,
            Weekday::Friday => jiff::civil::Weekday::Friday,
            Weekday::Saturday => jiff::civil::Weekday::Saturday,
            Weekday::Sunday => jiff::civil::Weekday::Sunday,
        }
    }
}

/// A weekly series: on these weekdays, at the first session's local time, until a date
/// (inclusive, in the service's time zone, within a year of the first session) or for a number
/// of sessions; one of the two, and at most 200 sessions either way.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Repeat {
    #[schema(example = json!(["monday", "wednesday"]), min_items = 1)]
    pub weekdays: Vec<Weekday>,
    pub until: Option<NaiveDate>,
    #[schema(minimum = 1, maximum = 200)]
    pub count: Option<u32>,
}

/// When a session starts and ends.
pub type SessionTimes = (DateTime<Utc>, DateTime<Utc>);

pub const MAX_SERIES: usize = 200;
pub const MAX_SESSION_HOURS: i64 = 24;
pub const INFO_ITEMS_MAX: usize = 20;
pub const INFO_ITEM_MAX: usize = 500;

/// The start and end of each session of a series. The first session is at `first_start` if that
/// day is one of the weekdays, else on the next one; every session starts at the same local time
/// in `time_zone` and lasts `length`.
pub fn weekly_series(
    first_start: DateTime<Utc>,
    length: Duration,
    time_zone: &str,
    repeat: &Repeat,
) -> Result<Vec<SessionTimes>, Vec<FieldError>> {
    let mut errors = Vec::new();
    if repeat.weekdays.is_empty() {
        errors.push(FieldError::new(
            "repeat.weekdays",
            "name at least one weekday",
        ));
    }
    match (repeat.until, repeat.count) {
        (Some(_), Some(_)) | (None, None) => {
            errors.push(FieldError::new("repeat", "give either `until` or `count`"));
        }
        (None, Some(count)) if count == 0 || count as usize > MAX_SERIES => {
            errors.push(FieldError::new(
                "repeat.count",
                format!("must be between 1 and {MAX_SERIES}"),
            ));
        }
        _ => {}
    }
    let zone = jiff::tz::TimeZone::get(time_zone).map_err(|_| {
        vec![FieldError::new(
            "timeZone",
            "the service's time zone is unknown",
        )]
    })?;
    let first = jiff::Timestamp::from_microsecond(first_start.timestamp_micros())
        .map_err(|_| vec![FieldError::new("startsAt", "is out of range")])?
        .to_zoned(zone.clone());
    let local_time = first.time();
    let mut date = first.date();
    let until = repeat.until.map(|d| {
        jiff::civil::date(
            i16::try_from(chrono::Datelike::year(&d)).unwrap_or(i16::MAX),
            i8::try_from(chrono::Datelike::month(&d)).unwrap_or(1),
            i8::try_from(chrono::Datelike::day(&d)).unwrap_or(1),
        )
    });
    if let Some(until) = until {
        if until < date {
            errors.push(FieldError::new(
                "repeat.until",
                "is before the first session",
            ));
        } else if date.until(until).map_or(true, |span| span.get_days() > 366) {
            errors.push(FieldError::new(
                "repeat.until",
                "must be within a year of the first session",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let weekdays: Vec<jiff::civil::Weekday> = repeat.weekdays.iter().map(|d| d.to_jiff()).collect();
    let wanted = repeat.count.map_or(MAX_SERIES, |n| n as usize);
    let mut sessions = Vec::new();
    // A year and a week of days is enough for any series the limits allow.
    for _ in 0..373 {
        if sessions.len() == wanted || until.is_some_and(|until| date > until) {
            break;
        }
        if weekdays.contains(&date.weekday()) {
            // A local time that does not exist (a spring-forward gap) moves later, as calendars do.
            let zoned = date
                .to_datetime(local_time)
                .to_zoned(zone.clone())
                .map_err(|_| {
                    vec![FieldError::new(
                        "startsAt",
                        "cannot be placed in the time zone",
                    )]
                })?;
            let start = DateTime::from_timestamp_micros(zoned.timestamp().as_microsecond())
                .ok_or_else(|| vec![FieldError::new("startsAt", "is out of range")])?;
            sessions.push((start, start + length));
        }
        date = date.tomorrow().map_err(|_| {
            vec![FieldError::new(
                "repeat",
                "runs past the end of the calendar",
            )]
        })?;
    }
    if sessions.len() > MAX_SERIES {
        return Err(vec![FieldError::new(
            "repeat",
            format!("makes more than {MAX_SERIES} sessions"),
        )]);
    }
    Ok(sessions)
}

/// Checks a session's own fields.
pub fn check_session_fields(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    capacity: i64,
    location: &str,
    information: &[String],
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if ends_at <= starts_at {
        errors.push(FieldError::new("endsAt", "must be after startsAt"));
    } else if ends_at - starts_at > Duration::hours(MAX_SESSION_HOURS) {
        errors.push(FieldError::new(
            "endsAt",
            format!("a session lasts at most {MAX_SESSION_HOURS} hours"),
        ));
    }
    if !(super::service::CAPACITY_RANGE.0..=super::service::CAPACITY_RANGE.1).contains(&capacity) {
        errors.push(FieldError::new("capacity", "must be between 1 and 10000"));
    }
    if location.chars().count() > super::service::LOCATION_MAX {
        errors.push(FieldError::new(
            "location",
            "must be at most 200 characters",
        ));
    }
    if super::has_nul(location) {
        errors.push(FieldError::new("location", super::NUL_MESSAGE));
    }
    if information.len() > INFO_ITEMS_MAX {
        errors.push(FieldError::new(
            "additionalInformation",
            format!("at most {INFO_ITEMS_MAX} items"),
        ));
    }
    if information.iter().any(|item| super::has_nul(item)) {
        errors.push(FieldError::new("additionalInformation", super::NUL_MESSAGE));
    }
    if information
        .iter()
        .any(|item| item.chars().count() > INFO_ITEM_MAX)
    {
        errors.push(FieldError::new(
            "additionalInformation",
            format!("each item is at most {INFO_ITEM_MAX} characters"),
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("timestamp")
    }

    #[test]
    fn a_weekly_class_keeps_its_local_time_across_a_dst_change() {
        // 09:00 in Paris on Monday 16 March 2026 (UTC+1); clocks go forward on 29 March.
        let repeat = Repeat {
            weekdays: vec![Weekday::Monday],
            until: None,
            count: Some(3),
        };
        let series = weekly_series(
            utc("2026-03-16T08:00:00Z"),
            Duration::hours(1),
            "Europe/Paris",
            &repeat,
        )
        .expect("series");
        let starts: Vec<DateTime<Utc>> = series.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            starts,
            [
                utc("2026-03-16T08:00:00Z"),
                utc("2026-03-23T08:00:00Z"),
                utc("2026-03-30T07:00:00Z")
            ]
        );
    }

    #[test]
    fn until_is_inclusive_and_weekdays_are_honoured() {
        let repeat = Repeat {
            weekdays: vec![Weekday::Tuesday, Weekday::Thursday],
            until: NaiveDate::from_ymd_opt(2026, 12, 10),
            count: None,
        };
        // Monday 30 November 2026: the first session is the Tuesday after.
        let series = weekly_series(
            utc("2026-11-30T18:00:00Z"),
            Duration::minutes(45),
            "UTC",
            &repeat,
        )
        .expect("series");
        let days: Vec<String> = series
            .iter()
            .map(|(s, _)| s.format("%a %d").to_string())
            .collect();
        assert_eq!(days, ["Tue 01", "Thu 03", "Tue 08", "Thu 10"]);
        assert!(series.iter().all(|(s, e)| *e - *s == Duration::minutes(45)));
    }

    #[test]
    fn a_series_needs_exactly_one_end() {
        let both = Repeat {
            weekdays: vec![Weekday::Monday],
            until: NaiveDate::from_ymd_opt(2026, 12, 31),
            count: Some(2),
        };
        assert!(
            weekly_series(
                utc("2026-11-30T18:00:00Z"),
                Duration::hours(1),
                "UTC",
                &both
            )
            .is_err()
        );
        let neither = Repeat {
            weekdays: vec![Weekday::Monday],
            until: None,
            count: None,
        };
        assert!(
            weekly_series(
                utc("2026-11-30T18:00:00Z"),
                Duration::hours(1),
                "UTC",
                &neither
            )
            .is_err()
        );
    }
}
