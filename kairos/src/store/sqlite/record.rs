//! How the readers' rows (rusqlite) are read into store records, exactly as sqlx reads the
//! writer's: a UUID is a 16-byte blob, a time RFC 3339 text, a bool an integer.
//!
//! [`record!`](crate::store::record) declares a record once: the struct, sqlx's `FromRow` for
//! the writer and PostgreSQL, and [`SqliteRecord`] for the readers. A field the reading leaves
//! out does not compile (the struct literal must name every field).

use std::rc::Rc;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use rusqlite::types::{FromSqlError, ValueRef};
use uuid::Uuid;

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

/// Where a record's fields are among a statement's columns, in the order the record reads them
/// (always the same order: every field, declared order). Found by name the first time a
/// statement is read into a record, then known: asking SQLite a column's name is a call, a
/// `strlen` and a UTF-8 check, which on a page of bookings (18 columns a row) was 3% of the
/// server's time.
pub enum Columns {
    Finding(Vec<usize>),
    Known(Rc<[usize]>, usize),
}

impl Columns {
    fn index(
        &mut self,
        statement: &rusqlite::Statement<'_>,
        name: &str,
    ) -> rusqlite::Result<usize> {
        match self {
            Columns::Known(found, at) => {
                let index = found
                    .get(*at)
                    .copied()
                    .ok_or_else(|| rusqlite::Error::InvalidColumnName(name.to_owned()))?;
                *at += 1;
                Ok(index)
            }
            // Statements list their columns in the order their record declares its fields,
            // mostly: the column after the last one found is tried first, and only when it is
            // not the one named are the names searched.
            Columns::Finding(found) => {
                let guess = found.last().map_or(0, |last| last + 1);
                let index = match statement.column_name(guess) {
                    Ok(at_guess) if at_guess == name => guess,
                    _ => statement.column_index(name)?,
                };
                found.push(index);
                Ok(index)
            }
        }
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
        let index = columns.index(row.as_ref(), name)?;
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

/// Declares a store record: the struct (with its own attributes and its fields'), sqlx's
/// `FromRow`, and [`SqliteRecord`]. A field whose type is itself a record (sqlx's
/// `#[sqlx(flatten)]`) reads the same row.
macro_rules! record {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_attr:meta])* $field_vis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(sqlx::FromRow)]
        $vis struct $name {
            $( $(#[$field_attr])* $field_vis $field: $ty ),*
        }

        impl $crate::store::sqlite::SqliteRecord for $name {
            fn read_from(
                row: &rusqlite::Row<'_>,
                columns: &mut $crate::store::sqlite::Columns,
            ) -> rusqlite::Result<Self> {
                Ok(Self {
                    $( $field: <$ty as $crate::store::sqlite::SqliteField>::read(
                        row,
                        stringify!($field),
                        columns,
                    )?, )*
                })
            }
        }

        $crate::store::sqlite::flattens!($name);
    };
}
pub(crate) use record;

/// A record read as a field of another (flattened) reads the whole row.
macro_rules! flattens {
    ($name:ty) => {
        impl $crate::store::sqlite::SqliteField for $name {
            fn read(
                row: &rusqlite::Row<'_>,
                _column: &str,
                columns: &mut $crate::store::sqlite::Columns,
            ) -> rusqlite::Result<Self> {
                <Self as $crate::store::sqlite::SqliteRecord>::read_from(row, columns)
            }
        }
    };
}
pub(crate) use flattens;

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
}
