//! The two ways into the database: a [`Reader`], which can only read, and a [`Writer`], which
//! holds a write transaction (on SQLite, a savepoint of the single writer's batch).
//!
//! Reads cannot write by type: only [`Writer`] has `execute`, and store functions that change
//! anything take a `&mut Writer`, which only [`Store::write`](super::Store::write) hands out.
//! (On SQLite the readers' connections are `query_only` as well, so even an `UPDATE ...
//! RETURNING` passed to a reader's fetch fails instead of racing the writer.)

use std::future::Future;

use uuid::Uuid;

use super::{
    StoreError,
    postgres::PgConn,
    query::{Dialect, MAX_REPEATS, Query, Record, Repeated, Row},
    sqlite::SqliteConn,
};

/// A connection of either backend.
pub(crate) enum Conn {
    Sqlite(SqliteConn),
    Postgres(PgConn),
}

impl Conn {
    fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    async fn execute(&mut self, query: Query) -> Result<u64, StoreError> {
        match self {
            Conn::Sqlite(c) => c.execute(query),
            Conn::Postgres(c) => c.execute(query).await,
        }
    }

    async fn fetch_optional<R: Record>(&mut self, query: Query) -> Result<Option<R>, StoreError> {
        match self {
            Conn::Sqlite(c) => c.fetch_optional(query),
            Conn::Postgres(c) => c.fetch_optional(query).await,
        }
    }

    async fn fetch_all<R: Record>(&mut self, query: Query) -> Result<Vec<R>, StoreError> {
        match self {
            Conn::Sqlite(c) => c.fetch_all(query),
            Conn::Postgres(c) => c.fetch_all(query).await,
        }
    }
}

/// What reading needs: a [`Reader`], or a [`Writer`] reading inside its transaction.
pub trait Read: Send {
    /// Which SQL dialect this connection speaks, for the few statements that differ.
    fn dialect(&self) -> Dialect;

    fn fetch_optional<R: Record>(
        &mut self,
        query: Query,
    ) -> impl Future<Output = Result<Option<R>, StoreError>> + Send;

    fn fetch_all<R: Record>(
        &mut self,
        query: Query,
    ) -> impl Future<Output = Result<Vec<R>, StoreError>> + Send;

    /// The row a statement returns, if any, read into its value.
    fn fetch_value<R: Row>(
        &mut self,
        query: Query,
    ) -> impl Future<Output = Result<Option<R::Value>, StoreError>> + Send {
        async move {
            self.fetch_optional::<R>(query)
                .await?
                .map(Row::value)
                .transpose()
        }
    }

    /// Every row a statement returns, read into its value.
    fn fetch_values<R: Row>(
        &mut self,
        query: Query,
    ) -> impl Future<Output = Result<Vec<R::Value>, StoreError>> + Send {
        async move {
            self.fetch_all::<R>(query)
                .await?
                .into_iter()
                .map(Row::value)
                .collect()
        }
    }

    /// Every row of a statement whose ids (`$1`, `$2`, ...) fill a [`Repeated`] list, read in
    /// chunks into their values.
    fn fetch_for_ids<R: Row>(
        &mut self,
        statement: &'static Repeated,
        ids: &[Uuid],
    ) -> impl Future<Output = Result<Vec<R::Value>, StoreError>> + Send {
        async move {
            let mut values = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(MAX_REPEATS) {
                let query = chunk
                    .iter()
                    .fold(statement.query(chunk.len()), |q, id| q.bind(*id));
                values.extend(self.fetch_values::<R>(query).await?);
            }
            Ok(values)
        }
    }

    /// The one row a statement must return. None is a bug (a row that must exist is missing),
    /// reported with the statement so the log says which.
    fn fetch_one<R: Record>(
        &mut self,
        query: Query,
    ) -> impl Future<Output = Result<R, StoreError>> + Send {
        async move {
            let text = query.text;
            self.fetch_optional(query)
                .await?
                .ok_or_else(|| StoreError::missing(format!("the row of `{text}`")))
        }
    }
}

/// A connection that sees every committed write and cannot change anything.
pub struct Reader(pub(crate) Conn);

/// A write transaction. `Ok` from the operation that holds it means its changes are committed
/// together; `Err` means none of them happened.
pub struct Writer {
    pub(crate) conn: Conn,
    /// Set by operations that end logins or change users, so cached logins are forgotten once
    /// the transaction commits.
    pub(crate) logins_changed: bool,
    /// Set by operations that leave work for the outbox (an event, a message), so its worker is
    /// woken once the transaction commits.
    pub(crate) outbox_changed: bool,
    /// Events recorded in this transaction, written just before it commits.
    pub(crate) events: Vec<crate::domain::event::Event>,
}

impl Writer {
    pub(crate) fn new(conn: Conn) -> Self {
        Self {
            conn,
            logins_changed: false,
            outbox_changed: false,
            events: Vec::new(),
        }
    }

    pub async fn execute(&mut self, query: Query) -> Result<u64, StoreError> {
        self.conn.execute(query).await
    }

    /// Cached logins must not outlive this transaction: it ends logins or changes who a user is.
    pub(crate) fn forget_cached_logins(&mut self) {
        self.logins_changed = true;
    }

    /// The outbox has new work once this transaction commits.
    pub(crate) fn outbox_changed(&mut self) {
        self.outbox_changed = true;
    }
}

impl Read for Reader {
    fn dialect(&self) -> Dialect {
        self.0.dialect()
    }

    async fn fetch_optional<R: Record>(&mut self, query: Query) -> Result<Option<R>, StoreError> {
        self.0.fetch_optional(query).await
    }

    async fn fetch_all<R: Record>(&mut self, query: Query) -> Result<Vec<R>, StoreError> {
        self.0.fetch_all(query).await
    }
}

impl Read for Writer {
    fn dialect(&self) -> Dialect {
        self.conn.dialect()
    }

    async fn fetch_optional<R: Record>(&mut self, query: Query) -> Result<Option<R>, StoreError> {
        self.conn.fetch_optional(query).await
    }

    async fn fetch_all<R: Record>(&mut self, query: Query) -> Result<Vec<R>, StoreError> {
        self.conn.fetch_all(query).await
    }
}
