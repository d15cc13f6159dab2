//! The PostgreSQL backend, for several Kairos instances behind one load balancer: a pool sized
//! for the machine, one transaction per write, and PostgreSQL's own group commit.

use std::time::Duration;

use futures_util::future::BoxFuture;

use sqlx::{
    PgConnection, Postgres as Db,
    postgres::{PgPool, PgPoolOptions},
};

use super::{
    Constraint, PoolStats, StoreError,
    backend::Backend,
    sql::{Conn, Dialect, Query, Record, bind_args},
};

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Postgres {
    pool: PgPool,
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
}

impl Backend for Postgres {
    type Conn = PgConnection;

    async fn read<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let mut conn = self.pool.acquire().await.map_err(classify)?;
        op(&mut conn).await
    }

    async fn write<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        match op(&mut tx).await {
            Ok(value) => {
                tx.commit().await.map_err(classify)?;
                Ok(value)
            }
            Err(err) => {
                let _ = tx.rollback().await;
                Err(err)
            }
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(classify)?;
        conn.execute(super::sql::query("SELECT 1")).await.map(drop)
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        }
    }

    fn name(&self) -> &'static str {
        "postgres"
    }

    fn sole_writer(&self) -> bool {
        false
    }
}

impl Conn for PgConnection {
    const DIALECT: Dialect = Dialect::Postgres;

    async fn execute(&mut self, query: Query) -> Result<u64, StoreError> {
        bind_args(sqlx::query::<Db>(query.text), query.args)
            .execute(&mut *self)
            .await
            .map(|done| done.rows_affected())
            .map_err(classify)
    }

    async fn fetch_optional<R: Record>(&mut self, query: Query) -> Result<Option<R>, StoreError> {
        let row = bind_args(sqlx::query::<Db>(query.text), query.args)
            .fetch_optional(&mut *self)
            .await
            .map_err(classify)?;
        row.map(|row| R::from_row(&row))
            .transpose()
            .map_err(classify)
    }

    async fn fetch_all<R: Record>(&mut self, query: Query) -> Result<Vec<R>, StoreError> {
        let rows = bind_args(sqlx::query::<Db>(query.text), query.args)
            .fetch_all(&mut *self)
            .await
            .map_err(classify)?;
        rows.iter()
            .map(|row| R::from_row(row))
            .collect::<Result<_, _>>()
            .map_err(classify)
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
