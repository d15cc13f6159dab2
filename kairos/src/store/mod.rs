//! The data layer: the only place in Kairos that holds SQL.
//!
//! [`Store`] runs operations on either backend: [`sqlite::Sqlite`] (the embedded default) or
//! [`postgres::Postgres`]. Each operation is one function in a feature module (`bookings`,
//! `logins`, ...), written once for both backends against a [`Reader`] or a [`Writer`]; the
//! use cases in `app` compose them inside one [`Store::read`] or [`Store::write`].

pub mod accounts;
pub mod availability;
pub mod booking_changes;
pub mod booking_lists;
pub mod booking_rows;
pub mod bookings;
pub mod catalogue;
mod conn;
pub mod deliveries;
pub mod events;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod idempotency;
mod lease;
mod location;
pub mod logins;
pub mod messages;
pub mod page_batches;
pub mod postgres;
mod principals;
mod promotion;
mod query;
pub(crate) mod record;
pub mod reminders;
pub mod schedule;
pub mod services;
pub mod sessions;
pub mod sqlite;
pub mod waitlist;
pub mod webhooks;

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures_util::{FutureExt, future::BoxFuture};
use tokio::sync::Notify;
use uuid::Uuid;

pub use conn::{Read, Reader, Writer};
pub use location::Location;
pub use query::{Arg, Dialect, Query, Record, Row, on_violation, query};
pub(crate) use record::record;

use crate::domain::{refusal::Refusal, user::User};
use principals::PrincipalCache;

/// The database: open once at start, cloned into everything that needs it.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    /// Live logins, cached only where this process alone can end them (SQLite).
    logins: Arc<PrincipalCache>,
    /// Told after every commit that left work for the outbox.
    outbox: Arc<Notify>,
}

/// What a committed transaction leaves to do once it is durable.
#[derive(Debug, Clone, Copy, Default)]
pub struct Committed {
    pub logins_changed: bool,
    pub outbox_changed: bool,
}

enum Db {
    Sqlite(sqlite::Sqlite),
    /// The database, and customers' own pages read together on it.
    Postgres(postgres::Postgres, page_batches::PageBatches),
}

impl Store {
    /// Opens the database, runs its migrations and returns the store over it.
    pub async fn open(location: &Location, pool_size: u32) -> anyhow::Result<Self> {
        let outbox = Arc::new(Notify::new());
        let (db, logins) = match location {
            Location::Sqlite(path) => {
                // One server per database file: every write that ends a login is this
                // process's own, so live logins may be cached.
                let logins = Arc::new(PrincipalCache::new(true));
                let sqlite =
                    sqlite::Sqlite::open(path, pool_size, Arc::clone(&logins), Arc::clone(&outbox))
                        .await
                        .with_context(|| format!("opening SQLite database {}", path.display()))?;
                (Db::Sqlite(sqlite), logins)
            }
            Location::Postgres(url) => {
                let postgres = postgres::Postgres::open(url, pool_size)
                    .await
                    .context("opening PostgreSQL database")?;
                // Fewer statements at once make larger batches: with 8 connections, two reading
                // pages gave 0.27 of the ceiling on two cores against 0.25 for four.
                let slots = (pool_size / 4) as usize;
                let pages = page_batches::PageBatches::start(postgres.clone(), slots);
                let logins = Arc::new(PrincipalCache::new(false));
                (Db::Postgres(postgres, pages), logins)
            }
        };
        Ok(Self {
            inner: Arc::new(Inner { db, logins, outbox }),
        })
    }

    /// Runs `op` on a connection that sees every committed write and cannot change anything.
    pub async fn read<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut Reader) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        match &self.inner.db {
            Db::Sqlite(db) => db.read(op).await,
            Db::Postgres(db, _) => db.read(op).await,
        }
    }

    /// Runs `op` in a write transaction. `Ok` means its effects are committed and durable; `Err`
    /// means none of them happened. An `Ok` from `op` whose commit then fails becomes `Err`.
    pub async fn write<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Writer) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        match &self.inner.db {
            // Its writer forgets cached logins and wakes the outbox itself, before it answers.
            Db::Sqlite(db) => db.write(op).await,
            Db::Postgres(db, _) => {
                let (value, committed) = db.write(op).await?;
                if committed.logins_changed {
                    self.inner.logins.clear();
                }
                if committed.outbox_changed {
                    self.inner.outbox.notify_one();
                }
                Ok(value)
            }
        }
    }

    /// Notified after each commit that left work for the outbox (new events or messages): the
    /// outbox worker waits on it.
    pub fn outbox_signal(&self) -> Arc<Notify> {
        Arc::clone(&self.inner.outbox)
    }

    /// The user behind a live login (not ended, not expired), from the cache when it knows it.
    pub async fn principal(
        &self,
        login_id: Uuid,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        if let Some(user) = self.cached_principal(login_id, user_id, now) {
            return Ok(Some(user));
        }
        let cache = &self.inner.logins;
        let generation = cache.generation();
        let found = self
            .read(move |r| logins::principal(r, login_id, user_id, now).boxed())
            .await?;
        Ok(found.map(|(user, expires_at)| {
            cache.put(generation, login_id, user.clone(), expires_at);
            user
        }))
    }

    /// The user of a live login, if the cache knows it.
    fn cached_principal(&self, login_id: Uuid, user_id: Uuid, now: DateTime<Utc>) -> Option<User> {
        self.inner.logins.get(login_id, user_id, now)
    }

    /// Whether the database answers (for SQLite: whether a write can be committed).
    pub async fn ping(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        match &self.inner.db {
            Db::Sqlite(db) => db.ping(now).await,
            Db::Postgres(db, _) => db.ping().await,
        }
    }

    pub fn pool_stats(&self) -> PoolStats {
        match &self.inner.db {
            Db::Sqlite(db) => db.pool_stats(),
            Db::Postgres(db, _) => db.pool_stats(),
        }
    }

    /// Whether this is the embedded database, which one process alone writes.
    pub fn is_embedded(&self) -> bool {
        matches!(self.inner.db, Db::Sqlite(_))
    }

    pub fn backend_name(&self) -> &'static str {
        match &self.inner.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(..) => "postgres",
        }
    }

    /// How PostgreSQL's batches of customers' pages went, for tests of the batching.
    pub fn page_batch_counts(&self) -> Option<&page_batches::PageBatchCounts> {
        match &self.inner.db {
            Db::Sqlite(_) => None,
            Db::Postgres(_, pages) => Some(pages.counts()),
        }
    }

    /// The SQLite writer's counts, for tests of its batching.
    pub fn sqlite_writer_counts(&self) -> Option<&sqlite::WriterCounts> {
        match &self.inner.db {
            Db::Sqlite(db) => Some(db.writer_counts()),
            Db::Postgres(..) => None,
        }
    }
}

/// What a change did: the thing as it now is, and whether this call changed it (false: it was
/// so already, and nothing was written, so nothing is to be told).
#[derive(Debug, Clone)]
pub struct Changed<T> {
    pub value: T,
    pub changed: bool,
}

impl<T> Changed<T> {
    pub fn no(value: T) -> Self {
        Self {
            value,
            changed: false,
        }
    }
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
    /// A row that must exist is not there: a bug or a bad migration, with what was expected.
    #[error("missing: {0}")]
    Missing(String),
    /// The database cannot be reached or cannot write (down, disk full, busy past its timeout).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// The same from the readers' SQLite connections.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// The constraints operations map to domain errors. Each has one name in both migration sets;
/// PostgreSQL reports that name, SQLite reports the columns, so both are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    UsersEmailKey,
    BookingsOneLivePerUser,
    SessionsCapacity,
    WaitlistOnePerUser,
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
        (
            Constraint::WaitlistOnePerUser,
            "waitlist_entries_one_per_user",
            "waitlist_entries.user_id, waitlist_entries.session_id",
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

impl StoreError {
    pub(crate) fn missing(what: impl Into<String>) -> Self {
        StoreError::Missing(what.into())
    }
}

/// A value in the database that the program does not know how to read: a bug or a bad migration.
pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("unexpected {what} in the database").into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
