//! The data layer: the only place in Kairos that holds SQL.
//!
//! [`Store`] is what the rest of the program sees. It is implemented once, in [`backend::SqlStore`],
//! over either backend: [`sqlite::Sqlite`] (the embedded default) or [`postgres::Postgres`].

pub mod accounts;
pub mod backend;
pub mod booking_lists;
pub mod bookings;
pub mod catalogue;
pub mod fixtures;
pub mod idempotency;
pub mod logins;
pub mod postgres;
pub mod principals;
pub mod schedule;
pub mod services;
pub mod sessions;
pub mod sql;
pub mod sqlite;

use std::{path::Path, sync::Arc};

use anyhow::{Context, bail};

use crate::domain::refusal::Refusal;

pub use accounts::{AccountStore, AdminChanges, Credentials, NewUser, UserChanges};
pub use booking_lists::{BookingFilter, BookingListStore, Perspective};
pub use bookings::{BookingChange, BookingStore, NewBooking};
pub use catalogue::CatalogueStore;
pub use fixtures::{BulkBookings, FixtureStore};
pub use idempotency::{Claim, IdempotencyStore};
pub use logins::{LoginFailures, LoginStore, NewLogin, NextRefreshToken, Rotation};
pub use schedule::ScheduleStore;
pub use services::{ServiceCounts, ServiceStore, Withdrawal};
pub use sessions::{NewSession, SessionChanges, SessionStore};

/// Everything the handlers may ask of the database.
pub trait Store:
    AccountStore
    + LoginStore
    + ServiceStore
    + CatalogueStore
    + SessionStore
    + BookingStore
    + BookingListStore
    + ScheduleStore
    + IdempotencyStore
    + FixtureStore
    + Health
{
}
impl<T> Store for T where
    T: AccountStore
        + LoginStore
        + ServiceStore
        + CatalogueStore
        + SessionStore
        + BookingStore
        + BookingListStore
        + ScheduleStore
        + IdempotencyStore
        + FixtureStore
        + Health
{
}

/// The store on the embedded SQLite database.
pub type SqliteStore = backend::SqlStore<sqlite::Sqlite>;
/// The store on PostgreSQL.
pub type PgStore = backend::SqlStore<postgres::Postgres>;

/// Liveness of the database, for `/readyz` and `/metrics`.
#[async_trait::async_trait]
pub trait Health: Send + Sync + 'static {
    async fn ping(&self) -> Result<(), StoreError>;
    fn pool_stats(&self) -> PoolStats;
    fn backend_name(&self) -> &'static str;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A rule of the product refused the operation; nothing was changed.
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// A named constraint no operation mapped to a domain error: a bug, not bad input.
    #[error("constraint {0:?} violated")]
    Violation(Constraint),
    /// The database cannot be reached or cannot write (down, disk full, busy past its timeout).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The constraints operations map to domain errors. Each has one name in both migration sets;
/// PostgreSQL reports that name, SQLite reports the columns, so both are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    UsersEmailKey,
    BookingsOneLivePerUser,
    SessionsCapacity,
}

impl Constraint {
    const ALL: &'static [(Constraint, &'static str, &'static str)] = &[
        (
            Constraint::UsersEmailKey,
            "users_email_key",
            "users.email_key",
        ),
        (
            Constraint::BookingsOneLivePerUser,
            "bookings_one_live_per_user",
            "bookings.session_id, bookings.user_id",
        ),
        // A named CHECK: SQLite reports its name.
        (
            Constraint::SessionsCapacity,
            "sessions_capacity",
            "sessions_capacity",
        ),
    ];

    pub(crate) fn from_postgres(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, pg, _)| *pg == name)
            .map(|(c, _, _)| *c)
    }

    /// SQLite says `UNIQUE constraint failed: users.email_key` (the columns, comma-separated).
    pub(crate) fn from_sqlite_message(message: &str) -> Option<Self> {
        let columns = message.split_once("constraint failed: ")?.1;
        Self::ALL
            .iter()
            .find(|(_, _, cols)| *cols == columns)
            .map(|(c, _, _)| *c)
    }
}

/// A value in the database that the program does not know how to read: a bug or a bad migration.
pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("unexpected {what} in the database").into(),
    ))
}

/// Which database a URL names. An unknown scheme is an error, never a silent fallback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Location {
    pub fn from_settings(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        match database_url {
            None => Ok(Location::Sqlite(data_dir.join("kairos.db"))),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Location::Postgres(url.to_owned()))
            }
            Some(url) if url.starts_with("sqlite://") => Ok(Location::Sqlite(
                url.trim_start_matches("sqlite://")
                    .split('?')
                    .next()
                    .unwrap_or_default()
                    .into(),
            )),
            Some(url) => {
                let scheme = url.split_once(':').map_or(url, |(s, _)| s);
                bail!(
                    "DATABASE_URL has the scheme `{scheme}`; Kairos speaks `postgres://` and `sqlite://`"
                )
            }
        }
    }
}

/// Opens the database, runs its migrations and returns the store over it.
pub async fn open(location: &Location, pool_size: u32) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match location {
        Location::Sqlite(path) => Arc::new(SqliteStore::new(
            sqlite::Sqlite::open(path, pool_size)
                .await
                .with_context(|| format!("opening SQLite database {}", path.display()))?,
        )),
        Location::Postgres(url) => Arc::new(PgStore::new(
            postgres::Postgres::open(url, pool_size)
                .await
                .context("opening PostgreSQL database")?,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_choose_a_backend_or_fail() {
        let dir = Path::new("/var/lib/kairos");
        assert_eq!(
            Location::from_settings(None, dir).expect("default"),
            Location::Sqlite(dir.join("kairos.db"))
        );
        assert!(matches!(
            Location::from_settings(Some("postgres://u@h/db"), dir),
            Ok(Location::Postgres(_))
        ));
        assert_eq!(
            Location::from_settings(Some("sqlite:///tmp/k.db?mode=rwc"), dir).expect("sqlite"),
            Location::Sqlite("/tmp/k.db".into())
        );
        assert!(Location::from_settings(Some("mysql://u@h/db"), dir).is_err());
        assert!(Location::from_settings(Some("kairos.db"), dir).is_err());
    }

    #[test]
    fn constraint_names_are_read_from_either_backend() {
        assert_eq!(
            Constraint::from_postgres("users_email_key"),
            Some(Constraint::UsersEmailKey)
        );
        assert_eq!(
            Constraint::from_sqlite_message("UNIQUE constraint failed: users.email_key"),
            Some(Constraint::UsersEmailKey)
        );
        assert_eq!(
            Constraint::from_sqlite_message("UNIQUE constraint failed: x.y"),
            None
        );
    }
}
