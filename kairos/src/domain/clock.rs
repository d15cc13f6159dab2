//! Time as Kairos keeps it: UTC, to the microsecond, and written as RFC 3339. (Where "now"
//! comes from is the application's [`Clock`](crate::app::Clock), never a call deep in a rule.)

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Serialize, Serializer};

/// PostgreSQL holds microseconds, so both backends do, and a value read back equals the value
/// written.
pub fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// Serializes a time exactly as chrono's own `Serialize` does (RFC 3339, `Z`, a fraction of 3,
/// 6 or 9 digits only when there is one), for the fields of the answers read most: chrono
/// writes it through `core::fmt`, a call per piece, which was 5% of the server's time on a
/// page of bookings (20 times per page). Years outside 0 to 9999 and leap seconds, which this
/// does not spell, go to chrono.
pub fn serialize_time<S: Serializer>(
    time: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut text = [0u8; RFC3339_MAX];
    match rfc3339(time, &mut text) {
        Some(text) => serializer.serialize_str(text),
        None => time.serialize(serializer),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`
const RFC3339_MAX: usize = 30;

fn rfc3339<'a>(time: &DateTime<Utc>, text: &'a mut [u8; RFC3339_MAX]) -> Option<&'a str> {
    let (date, clock) = (time.date_naive(), time.time());
    let year = u32::try_from(date.year())
        .ok()
        .filter(|year| *year <= 9999)?;
    let nanos = clock.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let (fraction, digits) = match nanos {
        0 => (0, 0),
        _ if nanos % 1_000_000 == 0 => (nanos / 1_000_000, 3),
        _ if nanos % 1_000 == 0 => (nanos / 1_000, 6),
        _ => (nanos, 9),
    };
    let mut out = Digits { text, at: 0 };
    out.number(year, 4);
    out.byte(b'-');
    out.number(date.month(), 2);
    out.byte(b'-');
    out.number(date.day(), 2);
    out.byte(b'T');
    out.number(clock.hour(), 2);
    out.byte(b':');
    out.number(clock.minute(), 2);
    out.byte(b':');
    out.number(clock.second(), 2);
    if digits > 0 {
        out.byte(b'.');
        out.number(fraction, digits);
    }
    out.byte(b'Z');
    let Digits { text, at } = out;
    std::str::from_utf8(&text[..at]).ok()
}

/// Writes into a fixed buffer, which `rfc3339` sizes for its longest text.
struct Digits<'a> {
    text: &'a mut [u8; RFC3339_MAX],
    at: usize,
}

impl Digits<'_> {
    fn byte(&mut self, byte: u8) {
        self.text[self.at] = byte;
        self.at += 1;
    }

    /// `value` in `width` digits, zero-padded (it never has more).
    fn number(&mut self, mut value: u32, width: usize) {
        for place in (self.at..self.at + width).rev() {
            self.text[place] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        self.at += width;
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    #[derive(Serialize)]
    struct Fast(#[serde(serialize_with = "serialize_time")] DateTime<Utc>);

    fn both(time: DateTime<Utc>) -> (String, String) {
        let fast = serde_json::to_string(&Fast(time)).unwrap_or_default();
        let chrono = serde_json::to_string(&time).unwrap_or_default();
        (fast, chrono)
    }

    #[test]
    fn times_are_written_exactly_as_chrono_writes_them() {
        let base = Utc.with_ymd_and_hms(2026, 11, 30, 9, 5, 7).single();
        let Some(base) = base else {
            panic!("a valid time")
        };
        let fractions = [
            0,
            1,
            999,
            1_000,
            120_000,
            1_000_000,
            7_000_000,
            999_999_000,
            999_999_999,
        ];
        for nanos in fractions {
            let time = base + chrono::Duration::nanoseconds(nanos);
            let (fast, chrono) = both(time);
            assert_eq!(fast, chrono, "{nanos} ns");
        }
        // A spread of instants over the years chrono writes with four digits, at microseconds
        // (as Kairos keeps them) and at odd nanoseconds.
        let mut seed: i64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let seconds = (seed >> 16).rem_euclid(253_402_300_799);
            let micros = (seed >> 8).rem_euclid(1_000_000);
            let nanos = if seed % 3 == 0 {
                micros * 1_000 + seed.rem_euclid(1_000)
            } else {
                micros * 1_000
            };
            let Some(time) = DateTime::from_timestamp(seconds - 62_135_596_800, nanos as u32)
            else {
                continue;
            };
            let (fast, chrono) = both(time);
            assert_eq!(fast, chrono);
        }
    }

    #[test]
    fn years_past_9999_and_before_0_are_left_to_chrono() {
        for year in [10_000, -1] {
            let date = NaiveDate::from_ymd_opt(year, 1, 2).and_then(|d| d.and_hms_opt(3, 4, 5));
            let Some(date) = date else {
                panic!("a valid date")
            };
            let (fast, chrono) = both(date.and_utc());
            assert_eq!(fast, chrono);
            assert!(rfc3339(&date.and_utc(), &mut [0; RFC3339_MAX]).is_none());
        }
    }
}
