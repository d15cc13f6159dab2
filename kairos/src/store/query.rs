//! What both backends share: a statement with owned arguments, and the rows it reads.
//!
//! Store operations are written once against [`Reader`](super::Reader) and
//! [`Writer`](super::Writer); each backend binds the arguments with its own native types
//! (PostgreSQL `uuid` and `timestamptz`, SQLite blobs and RFC 3339 text).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Constraint, StoreError, postgres::PgRecord, sqlite::SqliteRecord};

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
#[derive(Debug, Clone)]
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

/// The most rows (or list items) one statement built by [`Repeated`] carries.
pub const MAX_REPEATS: usize = 64;

/// A statement with a part repeated a number of times (the rows of a multi-row `INSERT`, the
/// items of an `IN (...)` list), its text made once per count and kept for the life of the
/// process. The text is made from the pieces given here only, never from input: the values
/// are bound as usual.
pub struct Repeated {
    texts: std::sync::LazyLock<Vec<&'static str>>,
}

impl Repeated {
    /// `build(n)` writes the statement for `n` repeats (1 to [`MAX_REPEATS`]).
    pub const fn new(build: fn() -> Vec<&'static str>) -> Self {
        Self {
            texts: std::sync::LazyLock::new(build),
        }
    }

    /// The statement for `n` repeats (`n` from 1 to [`MAX_REPEATS`]).
    pub fn query(&self, n: usize) -> Query {
        let text = self.texts[n.clamp(1, MAX_REPEATS) - 1];
        Query {
            text,
            args: Vec::new(),
        }
    }
}

/// The texts of a [`Repeated`]: `head`, then for each of 1 to [`MAX_REPEATS`] repeats, `part`
/// with its `{}` slots numbered on from `first` (`$first`, `$first+1`, ...), joined with
/// `separator`, then `tail`. Leaked once per process: they live as long as the statements do.
pub fn repeated_texts(
    head: &str,
    part: &str,
    separator: &str,
    tail: &str,
    first: usize,
) -> Vec<&'static str> {
    let slots = part.matches("{}").count();
    (1..=MAX_REPEATS)
        .map(|n| {
            let mut text = head.to_owned();
            let mut next = first;
            for i in 0..n {
                if i > 0 {
                    text.push_str(separator);
                }
                let mut pieces = part.split("{}");
                text.push_str(pieces.next().unwrap_or_default());
                for piece in pieces {
                    text.push_str(&format!("${next}"));
                    next += 1;
                    text.push_str(piece);
                }
            }
            debug_assert_eq!(next - first, n * slots);
            text.push_str(tail);
            &*Box::leak(text.into_boxed_str())
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A row type both backends can decode ([`record!`](super::record::record) declares one).
pub trait Record: SqliteRecord + PgRecord + Send + Unpin + 'static {}
impl<T> Record for T where T: SqliteRecord + PgRecord + Send + Unpin + 'static {}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_statements_number_their_slots_in_order() {
        let texts = repeated_texts("INSERT INTO t (a, b) VALUES ", "({}, {})", ", ", "", 2);
        assert_eq!(texts.len(), MAX_REPEATS);
        assert_eq!(texts[0], "INSERT INTO t (a, b) VALUES ($2, $3)");
        assert_eq!(
            texts[2],
            "INSERT INTO t (a, b) VALUES ($2, $3), ($4, $5), ($6, $7)"
        );
        let list = repeated_texts("DELETE FROM t WHERE id IN (", "{}", ", ", ")", 1);
        assert_eq!(list[1], "DELETE FROM t WHERE id IN ($1, $2)");
    }
}
