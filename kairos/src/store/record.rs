//! How a row becomes a store record on either backend: [`record!`] declares the struct and its
//! reading once, and each field is found among the statement's columns by name the first time
//! and by position after that ([`Columns`]).
//!
//! Each backend reads the values its own way (`sqlite::SqliteField`, `postgres::PgField`); a
//! field whose type is itself a record reads the same row (what sqlx calls flattening).

use std::sync::Arc;

/// What a statement says of its columns: the name at a position, and the position of a name.
pub trait ColumnNames {
    fn name_at(&self, index: usize) -> Option<&str>;
    fn position(&self, name: &str) -> Option<usize>;
}

/// Where a record's fields are among a statement's columns, in the order the record reads them
/// (always the same order: every field, declared order). Found by name for the first row of a
/// statement, then known: asking a column's name costs a call per field and row (on SQLite a
/// `strlen` and a UTF-8 check, on PostgreSQL a hash lookup), which on a page of bookings
/// (18 columns a row) was a noticeable share of a read.
pub enum Columns {
    Finding(Vec<usize>),
    Known(Arc<[usize]>, usize),
}

impl Columns {
    /// Where the next field, `name`, is; `None` if the statement has no such column.
    pub fn index(&mut self, names: &impl ColumnNames, name: &str) -> Option<usize> {
        match self {
            Columns::Known(found, at) => {
                let index = found.get(*at).copied()?;
                *at += 1;
                Some(index)
            }
            // Statements list their columns in the order their record declares its fields,
            // mostly: the column after the last one found is tried first, and only when it is
            // not the one named are the names searched.
            Columns::Finding(found) => {
                let guess = found.last().map_or(0, |last| last + 1);
                let index = match names.name_at(guess) {
                    Some(at_guess) if at_guess == name => guess,
                    _ => names.position(name)?,
                };
                found.push(index);
                Some(index)
            }
        }
    }
}

/// Reads the rows of one statement into records of one type: the first row finds the fields'
/// columns by name, the rest read them by position (the same positions each row, so nothing is
/// copied or counted per row beyond the field's index).
pub struct Positions(Columns);

impl Default for Positions {
    fn default() -> Self {
        Positions(Columns::Finding(Vec::new()))
    }
}

impl Positions {
    pub fn known(found: Arc<[usize]>) -> Self {
        Positions(Columns::Known(found, 0))
    }

    /// Reads one row with `read`, learning the positions from the first that reads whole.
    pub fn read<T, E>(&mut self, read: impl FnOnce(&mut Columns) -> Result<T, E>) -> Result<T, E> {
        if let Columns::Known(_, at) = &mut self.0 {
            *at = 0;
        }
        let record = read(&mut self.0);
        if let Columns::Finding(found) = &mut self.0 {
            match record {
                Ok(_) => self.0 = Columns::Known(std::mem::take(found).into(), 0),
                Err(_) => found.clear(),
            }
        }
        record
    }

    /// What the first row found, if one was read.
    pub fn found(&self) -> Option<&Arc<[usize]>> {
        match &self.0 {
            Columns::Known(found, _) => Some(found),
            Columns::Finding(_) => None,
        }
    }
}

/// Declares a store record: the struct (with its own attributes and its fields') and how both
/// backends read it ([`reads!`]). A field whose type is itself a record reads the same row.
macro_rules! record {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_attr:meta])* $field_vis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        $vis struct $name {
            $( $(#[$field_attr])* $field_vis $field: $ty ),*
        }

        $crate::store::record::reads!($name { $( $field: $ty ),* });
    };
}
pub(crate) use record;

/// How both backends read a struct declared elsewhere, field by field, each from the column of
/// its name; and, as a field of another record, from the same row. A field the reading leaves
/// out does not compile (the struct literal must name every field).
macro_rules! reads {
    ($name:ident { $( $field:ident : $ty:ty ),* $(,)? }) => {
        impl $crate::store::sqlite::SqliteRecord for $name {
            fn read_from(
                row: &rusqlite::Row<'_>,
                columns: &mut $crate::store::record::Columns,
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

        impl $crate::store::sqlite::SqliteField for $name {
            fn read(
                row: &rusqlite::Row<'_>,
                _column: &str,
                columns: &mut $crate::store::record::Columns,
            ) -> rusqlite::Result<Self> {
                <Self as $crate::store::sqlite::SqliteRecord>::read_from(row, columns)
            }
        }

        impl $crate::store::postgres::PgRecord for $name {
            fn from_pg(
                row: &sqlx::postgres::PgRow,
                columns: &mut $crate::store::record::Columns,
            ) -> Result<Self, sqlx::Error> {
                Ok(Self {
                    $( $field: <$ty as $crate::store::postgres::PgField>::read_pg(
                        row,
                        stringify!($field),
                        columns,
                    )?, )*
                })
            }
        }

        impl $crate::store::postgres::PgField for $name {
            fn read_pg(
                row: &sqlx::postgres::PgRow,
                _column: &str,
                columns: &mut $crate::store::record::Columns,
            ) -> Result<Self, sqlx::Error> {
                <Self as $crate::store::postgres::PgRecord>::from_pg(row, columns)
            }
        }
    };
}
pub(crate) use reads;

#[cfg(test)]
mod tests {
    use super::*;

    struct Names(&'static [&'static str]);

    impl ColumnNames for Names {
        fn name_at(&self, index: usize) -> Option<&str> {
            self.0.get(index).copied()
        }
        fn position(&self, name: &str) -> Option<usize> {
            self.0.iter().position(|n| *n == name)
        }
    }

    #[test]
    fn fields_are_found_by_name_then_read_by_position() {
        let names = Names(&["b", "a", "c"]);
        let mut positions = Positions::default();
        let read = |columns: &mut Columns| -> Result<Vec<Option<usize>>, ()> {
            Ok(["a", "b", "c"]
                .iter()
                .map(|name| columns.index(&names, name))
                .collect())
        };
        assert_eq!(positions.read(read), Ok(vec![Some(1), Some(0), Some(2)]));
        assert_eq!(positions.found().map(|f| f.to_vec()), Some(vec![1, 0, 2]));
        assert_eq!(positions.read(read), Ok(vec![Some(1), Some(0), Some(2)]));
        let mut missing = Columns::Finding(Vec::new());
        assert_eq!(missing.index(&names, "d"), None);

        // A first row that fails partway teaches nothing; the next one starts afresh.
        let mut positions = Positions::default();
        let failing = |columns: &mut Columns| -> Result<(), ()> {
            columns.index(&names, "c").ok_or(())?;
            columns.index(&names, "d").ok_or(())?;
            Ok(())
        };
        assert_eq!(positions.read(failing), Err(()));
        assert!(positions.found().is_none());
        assert_eq!(positions.read(read), Ok(vec![Some(1), Some(0), Some(2)]));
        assert_eq!(positions.found().map(|f| f.to_vec()), Some(vec![1, 0, 2]));
    }
}
