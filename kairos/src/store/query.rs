//! What both backends share: a statement with owned arguments, and the rows it reads.
//!
//! Store operations are written once against [`Reader`](super::Reader) and
//! [`Writer`](super::Writer); each backend binds the arguments with its own native types
//! (PostgreSQL `uuid` and `timestamptz`, SQLite blobs and RFC 3339 text).

use chrono::{DateTime, Utc};
use sqlx::{FromRow, postgres::PgRow, sqlite::SqliteRow};
use uuid::Uuid;

use super::{Constraint, StoreError};

/// One bound value. `None` binds SQL NULL of the variant's type.
#[derive(Debug, Clone)]
pub enum Arg {
    Uuid(Option<Uuid>),
    Time(Option<DateTime<Utc>>),
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

macro_rules! arg_from {
    ($variant:ident, $ty:ty) => {
        impl From<$ty> for Arg {
            fn from(value: $ty) -> Self {
                Arg::$variant(Some(value.into()))
            }
        }
        impl From<Option<$ty>> for Arg {
            fn from(value: Option<$ty>) -> Self {
                Arg::$variant(value.map(Into::into))
            }
        }
    };
}
arg_from!(Uuid, Uuid);
arg_from!(Time, DateTime<Utc>);
arg_from!(Text, String);
arg_from!(Text, &str);
arg_from!(Int, i64);
arg_from!(Int, i32);
arg_from!(Int, u32);
arg_from!(Bool, bool);
arg_from!(Bytes, Vec<u8>);

/// A statement and its arguments. The text is `'static`: SQL is never built from input.
#[derive(Debug)]
pub struct Query {
    pub(crate) text: &'static str,
    pub(crate) args: Vec<Arg>,
}

pub fn query(text: &'static str) -> Query {
    Query {
        text,
        args: Vec::new(),
    }
}

impl Query {
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A row type both backends can decode (`#[derive(sqlx::FromRow)]` gives both).
pub trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A row that reads into a domain value, checking what the database holds (a status it does
/// not know is a corrupt database, not a panic).
pub trait Row: Record {
    type Value: Send;

    fn value(self) -> Result<Self::Value, super::StoreError>;
}

/// Maps one named constraint to the domain error it means, leaving every other error alone.
pub fn on_violation(
    constraint: Constraint,
    becomes: StoreError,
) -> impl FnOnce(StoreError) -> StoreError {
    move |err| match err {
        StoreError::Violation(c) if c == constraint => becomes,
        other => other,
    }
}

/// Binds every argument with the backend's native type for it.
pub(crate) fn bind_args<'q, DB>(
    mut query: sqlx::query::Query<'q, DB, DB::Arguments>,
    args: Vec<Arg>,
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    DB: sqlx::Database,
    Option<Uuid>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<DateTime<Utc>>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<String>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<i64>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<bool>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<Vec<u8>>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    for arg in args {
        query = match arg {
            Arg::Uuid(v) => query.bind(v),
            Arg::Time(v) => query.bind(v),
            Arg::Text(v) => query.bind(v),
            Arg::Int(v) => query.bind(v),
            Arg::Bool(v) => query.bind(v),
            Arg::Bytes(v) => query.bind(v),
        };
    }
    query
}
