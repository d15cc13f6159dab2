//! How SQLite's rows (rusqlite) are read into store records, in the forms sqlx writes them: a
//! UUID is a 16-byte blob, a time RFC 3339 text, a bool an integer.
//!
//! [`record!`](crate::store::record::record) declares a record once, for both backends.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use rusqlite::types::{FromSqlError, ValueRef};
use uuid::Uuid;

use crate::store::record::{ColumnNames, Columns};

/// A row type the readers can decode.
pub trait SqliteRecord: Sized {
    /// Reads the record's fields from the row; `columns` says where they are.
    fn read_from(row: &rusqlite::Row<'_>, columns: &mut Columns) -> rusqlite::Result<Self>;
}

/// A field of a record: a column by name, or (for a record flattened into another) the row.
pub trait SqliteField: Sized {
    fn read(row: &rusqlite::Row<'_>, column: &str, columns: &mut Columns)
    -> rusqlite::Result<Self>;
}

impl ColumnNames for rusqlite::Statement<'_> {
    fn name_at(&self, index: usize) -> Option<&str> {
        self.column_name(index).ok()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.column_index(name).ok()
    }
}

/// One column's value, however it is named or placed.
pub trait SqliteValue: Sized {
    fn decode(value: ValueRef<'_>) -> Result<Self, FromSqlError>;
}

fn column<T: SqliteValue>(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<T> {
    T::decode(row.get_ref(index)?).map_err(|err| {
        let name = row
            .as_ref()
            .column_name(index)
            .map_or_else(|_| index.to_string(), str::to_owned);
        rusqlite::Error::FromSqlConversionFailure(index, value_type(row, index), {
            format!("column {name}: {err}").into()
        })
    })
}

fn value_type(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::types::Type {
    row.get_ref(index)
        .map_or(rusqlite::types::Type::Null, |v| v.data_type())
}

impl<T: SqliteValue> SqliteField for T {
    fn read(row: &rusqlite::Row<'_>, name: &str, columns: &mut Columns) -> rusqlite::Result<Self> {
        let index = columns
            .index(row.as_ref(), name)
            .ok_or_else(|| rusqlite::Error::InvalidColumnName(name.to_owned()))?;
        column(row, index)
    }
}

impl<T: SqliteValue> SqliteValue for Option<T> {
    fn decode(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        match value {
            ValueRef::Null => Ok(None),
            value => T::decode(value).map(Some),
        }
    }
}

impl SqliteValue for i64 {
    fn decode(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        value.as_i64()
    }
}

impl SqliteValue for bool {
    fn decode(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        value.as_i64().map(|v| v != 0)
    }
}

impl SqliteValue for String {
    fn decode(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        value.as_str().map(str::to_owned)
    }
}

impl SqliteValue for Vec<u8> {
    fn decode(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        value.as_blob().map(<[u8]>::to_vec)
    }
}

impl SqliteValue for Uuid {
    fn decode(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        Uuid::from_slice(value.as_blob()?).map_err(|err| FromSqlError::Other(Box::new(err)))
    }
}

impl SqliteValue for DateTime<Utc> {
    fn decode(value: ValueRef<'_>) -> Result<Self, FromSqlError> {
        let parsed = match value {
            ValueRef::Text(_) => time_from_text(value.as_str()?),
            ValueRef::Integer(seconds) => Utc.timestamp_opt(seconds, 0).single(),
            _ => return Err(FromSqlError::InvalidType),
        };
        parsed.ok_or_else(|| FromSqlError::Other("not a time".into()))
    }
}

/// The text forms of a time sqlx reads (its `decode_datetime_from_text`): RFC 3339, which is
/// what it writes, then SQLite's own.
fn time_from_text(text: &str) -> Option<DateTime<Utc>> {
    const FORMATS: [&str; 12] = [
        "%F %T%.f",
        "%F %R",
        "%F %RZ",
        "%F %R%:z",
        "%F %T%.fZ",
        "%F %T%.f%:z",
        "%FT%R",
        "%FT%RZ",
        "%FT%R%:z",
        "%FT%T%.f",
        "%FT%T%.fZ",
        "%FT%T%.f%:z",
    ];
    if let Some(time) = time_as_written(text) {
        return Some(time);
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    FORMATS.iter().find_map(|format| {
        DateTime::<FixedOffset>::parse_from_str(text, format)
            .map(|time| time.with_timezone(&Utc))
            .or_else(|_| NaiveDateTime::parse_from_str(text, format).map(|t| t.and_utc()))
            .ok()
    })
}

/// The one form the store writes a time in, `2026-11-30T09:05:07.123456+00:00` (the fraction
/// only when there is one; `Z` also taken), read without chrono's general parser, which was 5%
/// of a reader's instructions on a page of bookings (four times to a row). Anything else,
/// a leap second included, is `None` and left to it.
fn time_as_written(text: &str) -> Option<DateTime<Utc>> {
    let bytes = text.as_bytes();
    let number = |from: usize, to: usize| {
        bytes.get(from..to)?.iter().try_fold(0u32, |value, &byte| {
            byte.is_ascii_digit()
                .then(|| value * 10 + u32::from(byte - b'0'))
        })
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if !separators
        .iter()
        .all(|&(at, byte)| bytes.get(at) == Some(&byte))
    {
        return None;
    }
    let mut at = 19;
    let mut nanos = 0;
    if bytes.get(at) == Some(&b'.') {
        let digits = bytes[at + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        nanos = number(at + 1, at + 1 + digits)? * 10u32.pow(9 - digits as u32);
        at += 1 + digits;
    }
    if !matches!(bytes.get(at..), Some(b"+00:00" | b"Z")) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(0, 4)?).ok()?,
        number(5, 7)?,
        number(8, 10)?,
    )?;
    let time =
        NaiveTime::from_hms_nano_opt(number(11, 13)?, number(14, 16)?, number(17, 19)?, nanos)?;
    Some(date.and_time(time).and_utc())
}

/// Tuples read their columns in order, as sqlx's do.
macro_rules! tuple_record {
    ($($ty:ident $index:tt),+) => {
        impl<$($ty: SqliteValue),+> SqliteRecord for ($($ty,)+) {
            fn read_from(row: &rusqlite::Row<'_>, _: &mut Columns) -> rusqlite::Result<Self> {
                Ok(($(column::<$ty>(row, $index)?,)+))
            }
        }
    };
}
tuple_record!(A 0);
tuple_record!(A 0, B 1);
tuple_record!(A 0, B 1, C 2);
tuple_record!(A 0, B 1, C 2, D 3);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_in_every_form_sqlx_reads() {
        let want = Utc.with_ymd_and_hms(2026, 11, 30, 9, 5, 7).single();
        for text in [
            "2026-11-30T09:05:07+00:00",
            "2026-11-30T09:05:07Z",
            "2026-11-30 09:05:07",
            "2026-11-30T10:05:07+01:00",
        ] {
            assert_eq!(time_from_text(text), want, "{text}");
        }
        assert_eq!(time_from_text("yesterday"), None);
    }

    #[test]
    fn times_as_written_read_as_chrono_reads_them() {
        let base = Utc.with_ymd_and_hms(2026, 11, 30, 9, 5, 7).single();
        let Some(base) = base else {
            panic!("a valid time")
        };
        let mut seed: i64 = 0x2545_f491_4f6c_dd1d;
        for n in 0..20_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let offset = chrono::Duration::nanoseconds((seed >> 4) % 3_000_000_000_000_000_000);
            let mut time = base + offset;
            if n % 2 == 0 {
                time = crate::domain::clock::truncate_to_micros(time);
            }
            // As the store binds it (`conn::value`), and as sqlx writes it.
            for text in [
                time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
                time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, false),
            ] {
                let chrono = DateTime::parse_from_rfc3339(&text).map(|t| t.to_utc()).ok();
                assert_eq!(time_as_written(&text), chrono, "{text}");
                assert_eq!(chrono, Some(time), "{text}");
            }
        }
        for other in [
            "2026-11-30T09:05:07+01:00",
            "2026-11-30 09:05:07",
            "2026-11-30T09:05:07.+00:00",
            "2026-11-30T09:05:07.1234567890+00:00",
            "2026-11-30T09:05:60+00:00",
            "2026-02-30T09:05:07+00:00",
            "2026-11-30T09:05:07+00:00 ",
            "2026-11-3OT09:05:07Z",
            "2026-11-30T09:05:0",
            "2026-11-30T09:05:07.",
            "",
        ] {
            assert_eq!(time_as_written(other), None, "{other}");
        }
        assert_eq!(
            time_from_text("2026-11-30T10:05:07+01:00"),
            Some(base),
            "other offsets are still read"
        );
    }
}
