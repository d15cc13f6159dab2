//! The PostgreSQL backend, for several Kairos instances behind one load balancer: a pool sized
//! for the machine, one transaction per write, and PostgreSQL's own group commit.

use std::time::Duration;

use futures_util::future::BoxFuture;
use sqlx::{
    PgConnection, Postgres as Db, Transaction,
    pool::PoolConnection,
    postgres::{PgPool, PgPoolOptions},
};

use super::{
    Committed, Constraint, PoolStats, StoreError,
    conn::{Conn, Reader, Writer},
    query::{Query, Record, bind_args, query},
};

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Postgres {
    pool: PgPool,
}

/// A pooled connection for reads, or a transaction for writes.
pub enum PgConn {
    Pooled(PoolConnection<Db>),
    Transaction(Transaction<'static, Db>),
}

impl PgConn {
    fn connection(&mut self) -> &mut PgConnection {
        match self {
            PgConn::Pooled(conn) => conn,
            PgConn::Transaction(tx) => tx,
        }
    }

    pub async fn execute(&mut self, query: Query) -> Result<u64, StoreError> {
        bind_args(sqlx::query::<Db>(query.text), query.args)
            .execute(self.connection())
            .await
            .map(|done| done.rows_affected())
            .map_err(classify)
    }

    pub async fn fetch_optional<R: Record>(
        &mut self,
        query: Query,
    ) -> Result<Option<R>, StoreError> {
        let row = bind_args(sqlx::query::<Db>(query.text), query.args)
            .fetch_optional(self.connection())
            .await
            .map_err(classify)?;
        row.map(|row| R::from_row(&row))
            .transpose()
            .map_err(classify)
    }

    pub async fn fetch_all<R: Record>(&mut self, query: Query) -> Result<Vec<R>, StoreError> {
        let rows = bind_args(sqlx::query::<Db>(query.text), query.args)
            .fetch_all(self.connection())
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|row| R::from_row(row))
            .collect::<Result<_, _>>()
            .map_err(classify)
    }
}

impl Postgres {
    pub async fn open(url: &str, pool_size: u32) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(pool_size.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await?;
        // Takes an advisory lock, so instances starting together migrate once.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    pub async fn read<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Reader) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let conn = self.pool.acquire().await.map_err(classify)?;
        op(&mut Reader(Conn::Postgres(PgConn::Pooled(conn)))).await
    }

    /// Runs `op` in a transaction; answers what it left for after the commit along with its
    /// result.
    pub async fn write<T, F>(&self, op: F) -> Result<(T, Committed), StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Writer) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let tx = self.pool.begin().await.map_err(classify)?;
        let mut writer = Writer::new(Conn::Postgres(PgConn::Transaction(tx)));
        let mut result = op(&mut writer).await;
        if result.is_ok()
            && let Err(err) = super::events::flush(&mut writer).await
        {
            result = Err(err);
        }
        let Conn::Postgres(PgConn::Transaction(tx)) = writer.conn else {
            unreachable!("a PostgreSQL writer holds its transaction")
        };
        match result {
            Ok(value) => {
                tx.commit().await.map_err(classify)?;
                let committed = Committed {
                    logins_changed: writer.logins_changed,
                    outbox_changed: writer.outbox_changed,
                };
                Ok((value, committed))
            }
            Err(err) => {
                let _ = tx.rollback().await;
                Err(err)
            }
        }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        let conn = self.pool.acquire().await.map_err(classify)?;
        PgConn::Pooled(conn)
            .execute(query("SELECT 1"))
            .await
            .map(drop)
    }

    pub fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        }
    }
}

/// SQLSTATE classes that mean "cannot serve now": connection exceptions (08), insufficient
/// resources (53), operator intervention such as a shutdown (57), and serialization failures or
/// deadlocks (40), which a client may simply retry.
fn is_unavailable(code: &str) -> bool {
    ["08", "53", "57", "40"]
        .iter()
        .any(|class| code.starts_with(class))
}

fn classify(err: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        if let Some(constraint) = db.constraint().and_then(Constraint::from_postgres) {
            return StoreError::Violation(constraint);
        }
        if db.code().is_some_and(|code| is_unavailable(&code)) {
            return StoreError::Unavailable(err.to_string());
        }
    }
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err.to_string()),
        other => StoreError::Database(other),
    }
}
