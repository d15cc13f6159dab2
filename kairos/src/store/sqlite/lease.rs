//! The SQLite connections the store holds, lent out and taken back without a word to them.
//!
//! sqlx runs each SQLite connection on a thread of its own, and its pool pings a connection when
//! it is taken and again when it comes back: two round trips between threads around every read,
//! each a futex wake-up and a context switch, which on a page of bookings cost more than the
//! query (the profile in the README's performance section). A file on this machine does not
//! hang up as a server may, so this pool does not ask: it hands out an idle connection, opens
//! one while under its size, and takes each back as it is dropped. A connection whose last use
//! failed in a way that may have broken it is closed instead, and a new one opened when needed.

use std::sync::{Arc, Mutex, PoisonError};

use sqlx::{ConnectOptions, SqliteConnection, sqlite::SqliteConnectOptions};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{ACQUIRE_TIMEOUT, conn::classify};
use crate::store::StoreError;

pub struct Connections {
    options: SqliteConnectOptions,
    idle: Mutex<Vec<SqliteConnection>>,
    permits: Arc<Semaphore>,
    size: u32,
}

/// A connection lent out: it goes back to the pool when dropped, unless discarded.
pub struct Leased {
    /// Taken only by `drop`.
    conn: Option<SqliteConnection>,
    keep: bool,
    home: Arc<Connections>,
    _permit: OwnedSemaphorePermit,
}

impl Connections {
    /// A pool of at most `size` connections opened with `options`, starting with `first` (so a
    /// connection already opened, e.g. to migrate, is the one used).
    pub fn new(options: SqliteConnectOptions, size: u32, first: Vec<SqliteConnection>) -> Self {
        let size = size.max(1);
        Self {
            options,
            idle: Mutex::new(first),
            permits: Arc::new(Semaphore::new(size as usize)),
            size,
        }
    }

    /// An idle connection, or a new one while the pool is under its size; waits (up to the
    /// acquire timeout) while every connection is lent out.
    pub async fn lease(self: &Arc<Self>) -> Result<Leased, StoreError> {
        let permit =
            tokio::time::timeout(ACQUIRE_TIMEOUT, Arc::clone(&self.permits).acquire_owned())
                .await
                .map_err(|_| StoreError::Unavailable("no SQLite connection free in time".into()))?
                .map_err(|_| StoreError::Unavailable("the SQLite connections are closed".into()))?;
        let idle = self.idle().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.options.connect().await.map_err(classify)?,
        };
        Ok(Leased {
            conn: Some(conn),
            keep: true,
            home: Arc::clone(self),
            _permit: permit,
        })
    }

    /// How many connections are open, and how many of them are idle.
    pub fn stats(&self) -> (u32, u32) {
        let idle = u32::try_from(self.idle().len()).unwrap_or(u32::MAX);
        let lent = u32::try_from(self.size as usize - self.permits.available_permits())
            .unwrap_or(u32::MAX);
        (idle + lent, idle)
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<SqliteConnection>> {
        // The list is a plain Vec: a panic while it was locked left it whole.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Leased {
    /// Closes this connection instead of returning it: its last use failed in a way that may
    /// have left it unusable.
    pub fn discard(&mut self) {
        self.keep = false;
    }
}

impl std::ops::Deref for Leased {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        self.conn
            .as_ref()
            .expect("a leased connection is held until dropped")
    }
}

impl std::ops::DerefMut for Leased {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_mut()
            .expect("a leased connection is held until dropped")
    }
}

impl Drop for Leased {
    fn drop(&mut self) {
        // A statement still running for a caller that went away finishes first: the
        // connection's thread takes commands in order.
        if let Some(conn) = self.conn.take().filter(|_| self.keep) {
            self.home.idle().push(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::sqlite::options;

    fn connections(dir: &tempfile::TempDir, size: u32) -> Arc<Connections> {
        let options = options(&dir.path().join("lease.db")).create_if_missing(true);
        Arc::new(Connections::new(options, size, Vec::new()))
    }

    #[tokio::test]
    async fn connections_are_lent_up_to_the_size_and_taken_back_when_dropped() {
        let dir = tempfile::tempdir().expect("dir");
        let pool = connections(&dir, 2);
        let first = pool.lease().await.expect("first");
        let second = pool.lease().await.expect("second");
        assert_eq!(pool.stats(), (2, 0));
        let waiting = tokio::time::timeout(Duration::from_millis(100), pool.lease()).await;
        assert!(waiting.is_err(), "a third connection beyond the size");
        drop(first);
        assert_eq!(pool.stats(), (2, 1));
        let third = pool.lease().await.expect("the one given back");
        assert_eq!(pool.stats(), (2, 0));
        drop((second, third));
        assert_eq!(pool.stats(), (2, 2), "both idle, none closed");
    }

    #[tokio::test]
    async fn a_discarded_connection_is_closed_and_replaced_when_needed() {
        let dir = tempfile::tempdir().expect("dir");
        let pool = connections(&dir, 1);
        let mut broken = pool.lease().await.expect("lease");
        broken.discard();
        drop(broken);
        assert_eq!(pool.stats(), (0, 0));
        let mut fresh = pool.lease().await.expect("a new one");
        let (one,): (i64,) = sqlx::query_as("SELECT 1")
            .fetch_one(&mut *fresh)
            .await
            .expect("it works");
        assert_eq!(one, 1);
    }

    #[tokio::test]
    async fn a_statement_abandoned_half_way_leaves_its_connection_usable() {
        let dir = tempfile::tempdir().expect("dir");
        let pool = connections(&dir, 1);
        let mut conn = pool.lease().await.expect("lease");
        // Counting to a million takes far longer than the time allowed: the caller goes away
        // with the statement still running on the connection's thread.
        let slow = sqlx::query_as::<_, (i64,)>(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) \
             SELECT COUNT(*) FROM n",
        )
        .fetch_one(&mut *conn);
        assert!(
            tokio::time::timeout(Duration::from_millis(20), slow)
                .await
                .is_err()
        );
        drop(conn);
        let mut next = pool.lease().await.expect("the same connection");
        let (answer,): (String,) = sqlx::query_as("SELECT 'fresh'")
            .fetch_one(&mut *next)
            .await
            .expect("answers its own statement");
        assert_eq!(answer, "fresh");
    }
}
