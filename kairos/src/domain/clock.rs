//! Time as Kairos keeps it: UTC, to the microsecond. (Where "now" comes from is the application's
//! [`Clock`](crate::app::Clock), never a call deep in a rule.)

use chrono::{DateTime, Utc};

/// PostgreSQL holds microseconds, so both backends do, and a value read back equals the value
/// written.
pub fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}
