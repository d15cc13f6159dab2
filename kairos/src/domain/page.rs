//! Paging: `?limit=` (default 50, at most 200) and an opaque `?cursor=` naming where to go on.

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// One page of a list and, when there is more, the cursor of the next page.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only tells that more exist.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> String) -> Self {
        let limit = limit as usize;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(cursor_of)
        } else {
            None
        };
        Self { items: rows, next }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

/// The limit to use, or why the one given is not acceptable.
pub fn checked_limit(limit: Option<u32>) -> Result<u32, &'static str> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err("must be between 1 and 200"),
    }
}

/// Where a list ordered by a time and then an id goes on from.
pub type TimeCursor = (chrono::DateTime<chrono::Utc>, uuid::Uuid);

/// The cursor of a list ordered by a time and then an id: `<microseconds>.<32 hex digits>`.
/// The OpenAPI document gives its pattern, `^-?[0-9]{1,18}\.[0-9a-fA-F]{32}$`, so that every
/// string a client can make from it decodes: 18 digits of microseconds reach some 30,000 years
/// either side of 1970, inside chrono's range. (An id-ordered list's cursor is the last id.)
pub fn time_cursor(at: chrono::DateTime<chrono::Utc>, id: uuid::Uuid) -> String {
    format!("{}.{}", at.timestamp_micros(), id.simple())
}

/// A cursor outside the times a row can hold (years 0000 to 9999, as RFC 3339 writes them) is
/// the same place as that range's edge: nothing lies beyond it. Clamping keeps such a cursor
/// from reaching the database, where PostgreSQL refuses times before 4713 BC.
pub fn parse_time_cursor(cursor: &str) -> Option<TimeCursor> {
    let (micros, id) = cursor.split_once('.')?;
    let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    let id = super::id::parse_id(id)?;
    let earliest = chrono::DateTime::from_timestamp(-62_167_219_200, 0)?;
    let latest = chrono::DateTime::from_timestamp(253_402_300_799, 999_999_000)?;
    Some(if at < earliest {
        (earliest, uuid::Uuid::nil())
    } else if at > latest {
        (latest, uuid::Uuid::max())
    } else {
        (at, id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_cursors_round_trip() {
        let at = crate::domain::clock::truncate_to_micros(chrono::Utc::now());
        let id = uuid::Uuid::now_v7();
        assert_eq!(parse_time_cursor(&time_cursor(at, id)), Some((at, id)));
        assert_eq!(parse_time_cursor("garbage"), None);
        assert_eq!(parse_time_cursor("12.nothex"), None);
        // The documented pattern's extremes decode, to the edges of what a row can hold.
        let id = "0123456789abcdef0123456789ABCDEF";
        let (early, nil) = parse_time_cursor(&format!("-999999999999999999.{id}")).expect("early");
        assert_eq!(early.to_rfc3339(), "0000-01-01T00:00:00+00:00");
        assert_eq!(nil, uuid::Uuid::nil());
        let (late, max) = parse_time_cursor(&format!("999999999999999999.{id}")).expect("late");
        assert!(late.to_rfc3339().starts_with("9999-12-31T23:59:59.999999"));
        assert_eq!(max, uuid::Uuid::max());
    }

    #[test]
    fn overfetching_tells_whether_there_is_more() {
        let page = Page::from_overfetch(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!((page.items, page.next), (vec![1, 2], Some("2".to_owned())));
        let page = Page::from_overfetch(vec![1, 2], 2, |n| n.to_string());
        assert_eq!((page.items, page.next), (vec![1, 2], None));
    }
}
