//! Times as people read them: in the service's own time zone, with the zone named.

use chrono::{DateTime, Utc};

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
