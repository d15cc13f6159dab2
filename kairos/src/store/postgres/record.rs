//! How PostgreSQL's rows (sqlx) are read into store records: each value by its column's
//! position, found by name for a statement's first row ([`Positions`]), since sqlx finds a
//! column by name with a hash lookup for every field of every row.

use sqlx::{Decode, Postgres, Row, Type, postgres::PgRow};

use crate::store::record::{ColumnNames, Columns, Positions};

/// A row type PostgreSQL's rows decode into.
pub trait PgRecord: Sized {
    /// Reads the record's fields from the row; `columns` says where they are.
    fn from_pg(row: &PgRow, columns: &mut Columns) -> Result<Self, sqlx::Error>;
}

/// A field of a record: a column by name, or (for a record inside another) the row.
pub trait PgField: Sized {
    fn read_pg(row: &PgRow, column: &str, columns: &mut Columns) -> Result<Self, sqlx::Error>;
}

impl ColumnNames for PgRow {
    fn name_at(&self, index: usize) -> Option<&str> {
        self.columns().get(index).map(sqlx::Column::name)
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.columns()
            .iter()
            .position(|column| sqlx::Column::name(column) == name)
    }
}

impl<T> PgField for T
where
    T: for<'r> Decode<'r, Postgres> + Type<Postgres>,
{
    fn read_pg(row: &PgRow, name: &str, columns: &mut Columns) -> Result<Self, sqlx::Error> {
        let index = columns
            .index(row, name)
            .ok_or_else(|| sqlx::Error::ColumnNotFound(name.to_owned()))?;
        row.try_get(index)
    }
}

/// Tuples read their columns in order.
macro_rules! tuple_record {
    ($($ty:ident $index:tt),+) => {
        impl<$($ty),+> PgRecord for ($($ty,)+)
        where
            $($ty: for<'r> Decode<'r, Postgres> + Type<Postgres>),+
        {
            fn from_pg(row: &PgRow, _: &mut Columns) -> Result<Self, sqlx::Error> {
                Ok(($(row.try_get::<$ty, usize>($index)?,)+))
            }
        }
    };
}
tuple_record!(A 0);
tuple_record!(A 0, B 1);
tuple_record!(A 0, B 1, C 2);
tuple_record!(A 0, B 1, C 2, D 3);

/// Reads a statement's rows into records.
pub(super) fn read_all<R: PgRecord>(rows: &[PgRow]) -> Result<Vec<R>, sqlx::Error> {
    let mut positions = Positions::default();
    rows.iter()
        .map(|row| positions.read(|columns| R::from_pg(row, columns)))
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use sqlx::Connection;
    use uuid::Uuid;

    use super::read_all;

    crate::store::record! {
        struct Inner {
            later: Option<DateTime<Utc>>,
            flag: bool,
        }
    }

    crate::store::record! {
        struct Outer {
            id: Uuid,
            inner: Inner,
            name: String,
        }
    }

    /// Columns out of the fields' order, a record inside another, a NULL, and rows after the
    /// first read by the positions the first found. Needs `KAIROS_TEST_POSTGRES_URL`.
    #[tokio::test]
    async fn rows_read_by_name_then_by_position_in_any_column_order() {
        let Ok(url) = std::env::var("KAIROS_TEST_POSTGRES_URL") else {
            eprintln!("KAIROS_TEST_POSTGRES_URL not set: PostgreSQL not tried");
            return;
        };
        let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
        let at: DateTime<Utc> = "2026-11-30T10:00:00.123456Z".parse().expect("time");
        let ids = [Uuid::now_v7(), Uuid::now_v7()];
        let rows = sqlx::query(
            "SELECT name, flag, id, later, flag AS unread FROM (VALUES \
               ('Ada', true, $1::uuid, NULL::timestamptz), \
               ('Grace', false, $2::uuid, $3::timestamptz)) AS t (name, flag, id, later)",
        )
        .bind(ids[0])
        .bind(ids[1])
        .bind(at)
        .fetch_all(&mut conn)
        .await
        .expect("rows");
        let read = read_all::<Outer>(&rows).expect("records");
        let seen: Vec<_> = read
            .iter()
            .map(|o| (o.id, o.name.as_str(), o.inner.flag, o.inner.later))
            .collect();
        assert_eq!(
            seen,
            [
                (ids[0], "Ada", true, None),
                (ids[1], "Grace", false, Some(at))
            ]
        );
        let mistyped = read_all::<(Uuid, String)>(&rows);
        assert!(mistyped.is_err(), "a text column read as a UUID");
        let tuples = read_all::<(String, bool)>(&rows).expect("tuples");
        assert_eq!(tuples[1], ("Grace".to_owned(), false));
    }
}
