//! Time as Kairos keeps it: UTC, to the microsecond.

use chrono::{DateTime, Utc};

/// The current time as the store keeps it: PostgreSQL holds microseconds, so both backends do,
/// and a value read back equals the value written.
pub fn now() -> DateTime<Utc> {
    truncate_to_micros(Utc::now())
}

pub fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}
