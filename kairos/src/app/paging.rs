//! What a list request asks for: how many, from where, and (for lists by time) which range.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::AppError;
use crate::domain::{
    id::parse_id,
    page::{TimeCursor, checked_limit, parse_time_cursor},
};

/// `limit` (default 50, 1 to 200) and the `cursor` a previous page gave.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PageRequest {
    /// The first `limit` items.
    pub fn first(limit: u32) -> Self {
        Self {
            limit: Some(limit),
            cursor: None,
        }
    }

    fn limit(&self) -> Result<u32, AppError> {
        checked_limit(self.limit).map_err(|message| AppError::field("limit", message))
    }

    /// The limit and the id to go on after, for a list ordered by id.
    pub(super) fn by_id(&self) -> Result<(u32, Option<Uuid>), AppError> {
        let after = self
            .cursor
            .as_deref()
            .map(|c| parse_id(c).ok_or_else(not_a_cursor))
            .transpose()?;
        Ok((self.limit()?, after))
    }

    /// The limit and the place to go on after, for a list ordered by a time and an id.
    pub(super) fn by_time(&self) -> Result<(u32, Option<TimeCursor>), AppError> {
        let after = self
            .cursor
            .as_deref()
            .map(|c| parse_time_cursor(c).ok_or_else(not_a_cursor))
            .transpose()?;
        Ok((self.limit()?, after))
    }
}

fn not_a_cursor() -> AppError {
    AppError::field("cursor", "is not a cursor")
}

/// A time range: `from` (default now) to `to` (default 30 days after `from`), at most a year.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

pub const MAX_RANGE_DAYS: i64 = 366;

impl TimeRange {
    pub fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        Self {
            from: Some(from),
            to: Some(to),
        }
    }

    /// The range asked for, checked, with the defaults filled in from `now`.
    pub(super) fn checked(
        self,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
        let from = self.from.unwrap_or(now);
        let to = self.to.unwrap_or(from + Duration::days(30));
        if to <= from {
            return Err(AppError::field("to", "must be after `from`"));
        }
        if to - from > Duration::days(MAX_RANGE_DAYS) {
            return Err(AppError::field("to", "must be within a year of `from`"));
        }
        Ok((from, to))
    }
}
