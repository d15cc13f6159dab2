//! The database connections the store holds, lent out and taken back without a word to them.
//!
//! sqlx's pool pings a connection when it is taken and again when it comes back: two round
//! trips around every use (on PostgreSQL, two more wake-ups of the server's backend than the
//! statement itself). This pool hands out an idle connection, opens one while under its size,
//! and takes each back as it is dropped. A connection whose use failed in a way that may have
//! broken it, or was abandoned halfway, is closed instead, and a new one opened when needed. One
//! that sat idle a while is checked first ([`Connector::still_good`]), as a server may have hung
//! up on it meanwhile.

use std::{
    future::Future,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    time::Instant,
};

use super::StoreError;

/// How long a lease may wait: for a free connection, its check and, if need be, a new one.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How a backend opens its connections and checks an idle one.
pub trait Connector: Send + Sync + 'static {
    type Connection: Send + 'static;

    /// A new connection, ready for statements.
    fn connect(&self) -> impl Future<Output = Result<Self::Connection, StoreError>> + Send;

    /// Whether an idle connection may be lent again, given how long it has been open and how
    /// long it has sat idle.
    fn still_good(
        &self,
        conn: &mut Self::Connection,
        age: Age,
    ) -> impl Future<Output = bool> + Send;
}

/// How long an idle connection has been open, and how long it has sat idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age {
    pub open: Duration,
    pub idle: Duration,
}

/// A connection waiting to be lent, with when it was opened and when it was last given back.
struct Idle<T> {
    conn: T,
    opened: Instant,
    since: Instant,
}

pub struct Connections<C: Connector> {
    connector: C,
    idle: Mutex<Vec<Idle<C::Connection>>>,
    permits: Arc<Semaphore>,
    size: u32,
}

/// A connection lent out: it goes back to the pool when dropped, unless discarded.
pub struct Leased<C: Connector> {
    /// Taken only by `drop`.
    conn: Option<C::Connection>,
    opened: Instant,
    keep: bool,
    home: Arc<Connections<C>>,
    _permit: OwnedSemaphorePermit,
}

impl<C: Connector> Connections<C> {
    /// A pool of at most `size` connections opened by `connector`, starting with `first` (so a
    /// connection already opened, e.g. to migrate, is the one used).
    pub fn new(connector: C, size: u32, first: Vec<C::Connection>) -> Self {
        let size = size.max(1);
        let now = Instant::now();
        Self {
            connector,
            idle: Mutex::new(
                first
                    .into_iter()
                    .map(|conn| Idle {
                        conn,
                        opened: now,
                        since: now,
                    })
                    .collect(),
            ),
            permits: Arc::new(Semaphore::new(size as usize)),
            size,
        }
    }

    /// An idle connection, or a new one while the pool is under its size; waits (up to the
    /// acquire timeout in all) while every connection is lent out.
    pub async fn lease(self: &Arc<Self>) -> Result<Leased<C>, StoreError> {
        tokio::time::timeout(ACQUIRE_TIMEOUT, self.lease_now())
            .await
            .map_err(|_| StoreError::Unavailable("no database connection free in time".into()))?
    }

    async fn lease_now(self: &Arc<Self>) -> Result<Leased<C>, StoreError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("the database connections are closed".into()))?;
        loop {
            let idle = self.idle().pop();
            let (conn, opened) = match idle {
                Some(mut idle) => {
                    let age = Age {
                        open: idle.opened.elapsed(),
                        idle: idle.since.elapsed(),
                    };
                    if !self.connector.still_good(&mut idle.conn, age).await {
                        continue;
                    }
                    (idle.conn, idle.opened)
                }
                None => (self.connector.connect().await?, Instant::now()),
            };
            return Ok(Leased {
                conn: Some(conn),
                opened,
                keep: true,
                home: Arc::clone(self),
                _permit: permit,
            });
        }
    }

    /// The most connections open at once.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// How many connections are open, and how many of them are idle.
    pub fn stats(&self) -> (u32, u32) {
        let idle = u32::try_from(self.idle().len()).unwrap_or(u32::MAX);
        let lent = u32::try_from(self.size as usize - self.permits.available_permits())
            .unwrap_or(u32::MAX);
        (idle + lent, idle)
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Idle<C::Connection>>> {
        // The list is a plain Vec: a panic while it was locked left it whole.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<C: Connector> Leased<C> {
    /// Closes this connection when it is dropped instead of returning it: its use failed in a
    /// way that may have left it unusable, or has not finished.
    pub fn discard(&mut self) {
        self.keep = false;
    }

    /// Returns this connection when it is dropped (the default; undoes [`Self::discard`]).
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl<C: Connector> std::ops::Deref for Leased<C> {
    type Target = C::Connection;

    fn deref(&self) -> &C::Connection {
        self.conn
            .as_ref()
            .expect("a leased connection is held until dropped")
    }
}

impl<C: Connector> std::ops::DerefMut for Leased<C> {
    fn deref_mut(&mut self) -> &mut C::Connection {
        self.conn
            .as_mut()
            .expect("a leased connection is held until dropped")
    }
}

impl<C: Connector> Drop for Leased<C> {
    fn drop(&mut self) {
        // SQLite's statements run on the caller's thread, so none is still running here (one
        // whose rows were left unread is reset when its `Rows` is dropped: tested in the SQLite
        // backend); PostgreSQL's connection is discarded while a statement or transaction is
        // under way (`postgres::PgConn`).
        if let Some(conn) = self.conn.take().filter(|_| self.keep) {
            self.home.idle().push(Idle {
                conn,
                opened: self.opened,
                since: Instant::now(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

    use super::*;

    /// Connections are numbers, in the order they were opened.
    #[derive(Default)]
    struct Numbered {
        opened: AtomicU32,
        idle_ones_fail: AtomicBool,
        asked: Mutex<Vec<Age>>,
    }

    impl Connector for Numbered {
        type Connection = u32;

        async fn connect(&self) -> Result<u32, StoreError> {
            Ok(self.opened.fetch_add(1, Ordering::SeqCst) + 1)
        }

        async fn still_good(&self, _: &mut u32, age: Age) -> bool {
            self.asked.lock().expect("not poisoned").push(age);
            !self.idle_ones_fail.load(Ordering::SeqCst)
        }
    }

    fn connections(size: u32) -> Arc<Connections<Numbered>> {
        Arc::new(Connections::new(Numbered::default(), size, Vec::new()))
    }

    #[tokio::test]
    async fn connections_are_lent_up_to_the_size_and_taken_back_when_dropped() {
        let pool = connections(2);
        let first = pool.lease().await.expect("first");
        let second = pool.lease().await.expect("second");
        assert_eq!((*first, *second), (1, 2));
        assert_eq!(pool.stats(), (2, 0));
        let waiting = tokio::time::timeout(Duration::from_millis(100), pool.lease()).await;
        assert!(waiting.is_err(), "a third connection beyond the size");
        drop(first);
        assert_eq!(pool.stats(), (2, 1));
        let third = pool.lease().await.expect("the one given back");
        assert_eq!(*third, 1, "the first, not a new one");
        assert_eq!(pool.stats(), (2, 0));
        drop((second, third));
        assert_eq!(pool.stats(), (2, 2), "both idle, none closed");
    }

    #[tokio::test]
    async fn a_discarded_connection_is_closed_and_replaced_when_needed() {
        let pool = connections(1);
        let mut broken = pool.lease().await.expect("lease");
        broken.discard();
        drop(broken);
        assert_eq!(pool.stats(), (0, 0));
        let mut fresh = pool.lease().await.expect("a new one");
        assert_eq!(*fresh, 2);
        fresh.discard();
        fresh.keep();
        drop(fresh);
        assert_eq!(pool.stats(), (1, 1), "kept after all");
    }

    #[tokio::test]
    async fn an_idle_connection_that_fails_its_check_is_replaced_without_an_error() {
        let pool = connections(2);
        drop((
            pool.lease().await.expect("one"),
            pool.lease().await.expect("two"),
        ));
        assert_eq!(pool.stats(), (2, 2));
        pool.connector.idle_ones_fail.store(true, Ordering::SeqCst);
        let lent = pool.lease().await.expect("a new one");
        assert_eq!(*lent, 3);
        assert_eq!(pool.stats(), (1, 0), "both idle ones closed");
    }

    #[tokio::test]
    async fn a_lease_abandoned_midway_leaves_the_pool_whole() {
        let pool = connections(1);
        let held = pool.lease().await.expect("held");
        let waiting = tokio::time::timeout(Duration::from_millis(50), pool.lease()).await;
        assert!(waiting.is_err());
        drop(held);
        assert_eq!(pool.stats(), (1, 1));
        assert_eq!(*pool.lease().await.expect("free again"), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_check_is_told_how_long_a_connection_has_been_open_and_idle() {
        let pool = connections(1);
        let lent = pool.lease().await.expect("new");
        tokio::time::advance(Duration::from_secs(10)).await;
        drop(lent);
        tokio::time::advance(Duration::from_secs(3)).await;
        drop(pool.lease().await.expect("again"));
        let asked = pool.connector.asked.lock().expect("not poisoned").clone();
        assert_eq!(
            asked,
            [Age {
                open: Duration::from_secs(13),
                idle: Duration::from_secs(3),
            }]
        );
    }
}
