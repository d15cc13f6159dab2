//! How a backend runs work, and the one [`Store`](super::Store) implementation built on that.

use std::future::Future;

use futures_util::future::BoxFuture;

use super::{PoolStats, StoreError, principals::PrincipalCache, sql::Conn};

/// What differs between SQLite and PostgreSQL: how a read and a write transaction are run.
/// Operations are closures over the backend's connection type, boxed where they must wait.
pub trait Backend: Send + Sync + 'static {
    type Conn: Conn;

    /// Runs `op` on a connection that sees every committed write.
    fn read<T, F>(&self, op: F) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Self::Conn) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static;

    /// Runs `op` in a write transaction. `Ok` means its effects are committed and durable; `Err`
    /// means none of them happened. An `Ok` from `op` whose commit then fails becomes `Err`.
    fn write<T, F>(&self, op: F) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Self::Conn) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static;

    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn pool_stats(&self) -> PoolStats;

    fn name(&self) -> &'static str;

    /// Whether this process is the only one that can end login sessions, so live ones may be
    /// cached (true for SQLite: one server per database file).
    fn sole_writer(&self) -> bool;
}

/// The store over a backend. Feature modules (`accounts`, `logins`, ...) implement their part of
/// [`Store`](super::Store) for it, once for both backends.
pub struct SqlStore<B> {
    pub(crate) backend: B,
    pub(crate) principals: PrincipalCache,
}

impl<B: Backend> SqlStore<B> {
    pub fn new(backend: B) -> Self {
        let principals = PrincipalCache::new(backend.sole_writer());
        Self {
            backend,
            principals,
        }
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }
}

#[async_trait::async_trait]
impl<B: Backend> super::Health for SqlStore<B> {
    async fn ping(&self) -> Result<(), StoreError> {
        self.backend.ping().await
    }

    fn pool_stats(&self) -> PoolStats {
        self.backend.pool_stats()
    }

    fn backend_name(&self) -> &'static str {
        self.backend.name()
    }
}
