//! Working hours: a provider's weekly windows (with dated exceptions) from which ordinary
//! sessions are made, slot by slot, in the service's time zone.

use chrono::{DateTime, NaiveDate, Utc};
use jiff::{
    civil,
    tz::{AmbiguousOffset, TimeZone},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{FieldError, session::Weekday};

/// Hours on some weekdays: slots start at `from` and end by `to`, local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    #[schema(min_items = 1, example = json!(["monday", "tuesday"]))]
    pub weekdays: Vec<Weekday>,
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:00")]
    pub from: String,
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "17:00")]
    pub to: String,
}

/// One date's hours instead of the weekly ones: closed, or open `from`–`to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DateException {
    pub date: NaiveDate,
    /// `true`: no slots that day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub to: Option<String>,
}

/// A service's working hours, as stored and shown: every default filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    pub weekly: Vec<WeeklyHours>,
    /// Each session's length.
    pub slot_minutes: i64,
    /// Between one slot's end and the next one's start.
    pub gap_minutes: i64,
    /// How many days ahead, from today in the service's time zone, sessions are kept made.
    pub horizon_days: i64,
    pub exceptions: Vec<DateException>,
}

pub const HORIZON_DEFAULT: i64 = 28;
pub const HORIZON_MAX: i64 = 365;
pub const SLOT_RANGE: (i64, i64) = (5, 24 * 60);
pub const GAP_RANGE: (i64, i64) = (0, 24 * 60);
pub const WINDOWS_MAX: usize = 50;
pub const EXCEPTIONS_MAX: usize = 400;
/// More sessions than this from one rule is a mistake, not a timetable.
pub const SESSIONS_MAX: usize = 20_000;

/// A window of a day, as local times.
type Window = (civil::Time, civil::Time);

fn clock(text: &str) -> Option<civil::Time> {
    let (hours, minutes) = text.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    civil::Time::new(hours.parse().ok()?, minutes.parse().ok()?, 0, 0).ok()
}

impl Availability {
    /// Checks every field together; what is wrong is reported by field.
    pub fn checked(self) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let window = |field: String, from: &str, to: &str, errors: &mut Vec<FieldError>| match (
            clock(from),
            clock(to),
        ) {
            (Some(f), Some(t)) if f < t => {}
            (Some(_), Some(_)) => errors.push(FieldError::new(field, "`to` must be after `from`")),
            _ => errors.push(FieldError::new(field, "times are HH:MM, 00:00 to 23:59")),
        };
        if self.weekly.len() > WINDOWS_MAX {
            errors.push(FieldError::new(
                "weekly",
                format!("at most {WINDOWS_MAX} windows"),
            ));
        }
        for (i, hours) in self.weekly.iter().enumerate() {
            if hours.weekdays.is_empty() {
                errors.push(FieldError::new(
                    format!("weekly[{i}].weekdays"),
                    "name a weekday",
                ));
            }
            window(format!("weekly[{i}]"), &hours.from, &hours.to, &mut errors);
        }
        let in_range = |value: i64, (low, high): (i64, i64)| (low..=high).contains(&value);
        if !in_range(self.slot_minutes, SLOT_RANGE) {
            errors.push(FieldError::new("slotMinutes", "must be 5 to 1440"));
        }
        if !in_range(self.gap_minutes, GAP_RANGE) {
            errors.push(FieldError::new("gapMinutes", "must be 0 to 1440"));
        }
        if !in_range(self.horizon_days, (1, HORIZON_MAX)) {
            errors.push(FieldError::new("horizonDays", "must be 1 to 365"));
        }
        if self.exceptions.len() > EXCEPTIONS_MAX {
            errors.push(FieldError::new(
                "exceptions",
                format!("at most {EXCEPTIONS_MAX}"),
            ));
        }
        let mut dates = std::collections::HashSet::new();
        for (i, exception) in self.exceptions.iter().enumerate() {
            let field = format!("exceptions[{i}]");
            if !dates.insert(exception.date) {
                errors.push(FieldError::new(field.clone(), "a date is given once"));
            }
            match (exception.closed, &exception.from, &exception.to) {
                (Some(true), None, None) => {}
                (None | Some(false), Some(from), Some(to)) => window(field, from, to, &mut errors),
                _ => errors.push(FieldError::new(
                    field,
                    "give either `closed: true` or `from` and `to`",
                )),
            }
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }

    /// At most how many sessions the rule can make over its horizon, counted without making
    /// them (so a rule that asks for millions is refused before any work).
    pub fn most_sessions(&self) -> usize {
        let per_window = |from: &str, to: &str| -> i64 {
            match (clock(from), clock(to)) {
                (Some(f), Some(t)) => {
                    let minutes = i64::from(t.hour()) * 60 + i64::from(t.minute())
                        - i64::from(f.hour()) * 60
                        - i64::from(f.minute());
                    if minutes < self.slot_minutes {
                        0
                    } else {
                        (minutes - self.slot_minutes)
                            / (self.slot_minutes + self.gap_minutes).max(1)
                            + 1
                    }
                }
                _ => 0,
            }
        };
        let weekly: i64 = self.weekly.iter().map(|h| per_window(&h.from, &h.to)).sum();
        let dated: i64 = self
            .exceptions
            .iter()
            .filter_map(|e| Some(per_window(e.from.as_deref()?, e.to.as_deref()?)))
            .sum();
        usize::try_from((weekly * self.horizon_days + dated).max(0)).unwrap_or(usize::MAX)
    }

    /// The day's windows: the exception's, if the date has one, else the weekly ones.
    fn windows(&self, date: civil::Date) -> Vec<Window> {
        let chrono_date = NaiveDate::from_ymd_opt(
            i32::from(date.year()),
            u32::try_from(date.month()).unwrap_or(1),
            u32::try_from(date.day()).unwrap_or(1),
        );
        if let Some(exception) = self.exceptions.iter().find(|e| Some(e.date) == chrono_date) {
            return match (&exception.from, &exception.to) {
                (Some(from), Some(to)) if exception.closed != Some(true) => {
                    clock(from).zip(clock(to)).into_iter().collect()
                }
                _ => Vec::new(),
            };
        }
        self.weekly
            .iter()
            .filter(|hours| hours.weekdays.iter().any(|d| d.to_jiff() == date.weekday()))
            .filter_map(|hours| clock(&hours.from).zip(clock(&hours.to)))
            .collect()
    }

    /// The slots (start, end) of the dates `first..=last` in `zone`, soonest first. Slots start at
    /// a window's `from` and every slot plus gap after, and end by its `to`, counted in local
    /// time; a local start a DST change skips makes no slot, and one it repeats makes one slot,
    /// at the first of the two instants. A slot lasts `slot_minutes` of real time.
    pub fn slots(
        &self,
        zone: &TimeZone,
        first: civil::Date,
        last: civil::Date,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let slot = jiff::SignedDuration::from_mins(self.slot_minutes);
        let step = jiff::SignedDuration::from_mins(self.slot_minutes + self.gap_minutes);
        let mut slots = Vec::new();
        let mut date = first;
        while date <= last {
            for (from, to) in self.windows(date) {
                let end_by = date.to_datetime(to);
                let mut start = date.to_datetime(from);
                while start.checked_add(slot).is_ok_and(|end| end <= end_by) {
                    let ambiguous = zone.to_ambiguous_timestamp(start);
                    let instant = match ambiguous.offset() {
                        AmbiguousOffset::Unambiguous { offset } => {
                            start.to_zoned(TimeZone::fixed(offset)).ok()
                        }
                        AmbiguousOffset::Fold { before, .. } => {
                            start.to_zoned(TimeZone::fixed(before)).ok()
                        }
                        AmbiguousOffset::Gap { .. } => None,
                    };
                    if let Some(begins) = instant.map(|z| z.timestamp())
                        && let (Some(s), Some(e)) = (
                            DateTime::from_timestamp_micros(begins.as_microsecond()),
                            begins
                                .checked_add(slot)
                                .ok()
                                .and_then(|e| DateTime::from_timestamp_micros(e.as_microsecond())),
                        )
                    {
                        slots.push((s, e));
                    }
                    match start.checked_add(step) {
                        Ok(next) if next.date() == date => start = next,
                        _ => break,
                    }
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        slots.sort_unstable();
        slots.dedup_by_key(|s| s.0);
        slots
    }
}

#[cfg(test)]
mod tests;
