//! The PostgreSQL backend, for several Kairos instances behind one load balancer: connections
//! lent by the store ([`super::lease`]), one transaction per write, and PostgreSQL's own group
//! commit.

mod record;

use std::{sync::Arc, time::Duration};

use futures_util::future::BoxFuture;
use sqlx::{ConnectOptions, Connection, PgConnection, Postgres as Db, postgres::PgConnectOptions};

use super::{
    Committed, Constraint, PoolStats, StoreError,
    conn::{Conn, Reader, Writer},
    lease::{Age, Connections, Connector, Leased},
    query::{Query, Record, bind_args, query},
    record::Columns,
};
use record::read_all;
pub(crate) use record::{PgField, PgRecord};

/// A connection used within this long is lent again as it is; one idle longer is pinged first,
/// in case the server (or something between) hung up on it meanwhile. Under load connections
/// come back within milliseconds, so only a quiet server pays for the ping.
const TRUSTED_IDLE: Duration = Duration::from_secs(1);

/// A connection open this long is closed when it comes up to be lent again (sqlx's default
/// lifetime): a server backend's caches grow over its life.
const MAX_AGE: Duration = Duration::from_secs(30 * 60);

/// What an idle connection needs before it is lent again.
#[derive(Debug, PartialEq, Eq)]
enum Check {
    Nothing,
    Ping,
    Retire,
}

fn check(age: Age) -> Check {
    if age.open >= MAX_AGE {
        Check::Retire
    } else if age.idle >= TRUSTED_IDLE {
        Check::Ping
    } else {
        Check::Nothing
    }
}

#[derive(Clone)]
pub struct Postgres {
    connections: Arc<Connections<PgConnector>>,
}

pub struct PgConnector {
    options: PgConnectOptions,
}

impl Connector for PgConnector {
    type Connection = PgConnection;

    async fn connect(&self) -> Result<PgConnection, StoreError> {
        self.options.connect().await.map_err(classify)
    }

    async fn still_good(&self, conn: &mut PgConnection, age: Age) -> bool {
        match check(age) {
            Check::Nothing => true,
            Check::Ping => conn.ping().await.is_ok(),
            Check::Retire => false,
        }
    }
}

/// A connection lent for one operation (a read, or a write's transaction). It goes back to the
/// pool only once the operation is settled: one abandoned halfway (its request dropped
/// mid-statement or mid-transaction) or broken by a failure that was not the database's
/// answer is closed instead, which also ends any transaction it held.
pub struct PgConn {
    conn: Leased<PgConnector>,
    broken: bool,
}

impl PgConn {
    fn new(mut conn: Leased<PgConnector>) -> Self {
        conn.discard();
        Self {
            conn,
            broken: false,
        }
    }

    /// The operation is over and nothing is left under way on the connection.
    fn settle(&mut self) {
        if !self.broken {
            self.conn.keep();
        }
    }

    /// Notes whether a statement's failure may have broken the connection.
    fn checked<T>(&mut self, result: Result<T, sqlx::Error>) -> Result<T, StoreError> {
        result.map_err(|err| {
            self.broken |= !leaves_connection_usable(&err);
            classify(err)
        })
    }

    pub async fn execute(&mut self, query: Query) -> Result<u64, StoreError> {
        let done = bind_args(sqlx::query::<Db>(query.text), query.args)
            .execute(&mut *self.conn)
            .await;
        self.checked(done).map(|done| done.rows_affected())
    }

    pub async fn fetch_optional<R: Record>(
        &mut self,
        query: Query,
    ) -> Result<Option<R>, StoreError> {
        let row = bind_args(sqlx::query::<Db>(query.text), query.args)
            .fetch_optional(&mut *self.conn)
            .await;
        self.checked(row)?
            .map(|row| R::from_pg(&row, &mut Columns::Finding(Vec::new())))
            .transpose()
            .map_err(classify)
    }

    pub async fn fetch_all<R: Record>(&mut self, query: Query) -> Result<Vec<R>, StoreError> {
        let rows = bind_args(sqlx::query::<Db>(query.text), query.args)
            .fetch_all(&mut *self.conn)
            .await;
        read_all(&self.checked(rows)?).map_err(classify)
    }
}

impl Postgres {
    pub async fn open(url: &str, pool_size: u32) -> anyhow::Result<Self> {
        let connector = PgConnector {
            options: url.parse()?,
        };
        let mut first = connector.options.connect().await?;
        // Takes an advisory lock, so instances starting together migrate once.
        sqlx::migrate!("./migrations/postgres")
            .run(&mut first)
            .await?;
        let connections = Connections::new(connector, pool_size, vec![first]);
        Ok(Self {
            connections: Arc::new(connections),
        })
    }

    async fn lease(&self) -> Result<PgConn, StoreError> {
        Ok(PgConn::new(self.connections.lease().await?))
    }

    pub async fn read<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut Reader) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        // A connection the server hung up on within the second it is trusted without a ping (a
        // restart, a failover, a proxy's idle timeout) fails the statement sent on it. A read
        // changes nothing, so it runs again on the next connection; each broken one is
        // closed, so after at most the pool's idle connections it runs on a new one, or the
        // database is really gone and connecting says so.
        let retries = self.connections.size();
        let mut attempt = 0;
        loop {
            let mut reader = Reader(Conn::Postgres(self.lease().await?));
            let result = op(&mut reader).await;
            let conn = postgres(&mut reader.0);
            conn.settle();
            let hung_up = conn.broken && matches!(result, Err(StoreError::Unavailable(_)));
            if !hung_up || attempt == retries {
                return result;
            }
            attempt += 1;
        }
    }

    /// Runs `op` in a transaction; answers what it left for after the commit along with its
    /// result.
    pub async fn write<T, F>(&self, op: F) -> Result<(T, Committed), StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Writer) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let mut writer = Writer::new(Conn::Postgres(self.lease().await?));
        writer.execute(query("BEGIN")).await?;
        let mut result = op(&mut writer).await;
        if result.is_ok()
            && let Err(err) = super::events::flush(&mut writer).await
        {
            result = Err(err);
        }
        // A COMMIT the database refuses ends the transaction too, so the connection is settled
        // either way (unless the failure broke it).
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = writer.execute(query(end)).await;
        postgres(&mut writer.conn).settle();
        let value = result?;
        ended?;
        let committed = Committed {
            logins_changed: writer.logins_changed,
            outbox_changed: writer.outbox_changed,
        };
        Ok((value, committed))
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.lease().await?;
        conn.execute(query("SELECT 1")).await?;
        conn.settle();
        Ok(())
    }

    pub fn pool_stats(&self) -> PoolStats {
        let (size, idle) = self.connections.stats();
        PoolStats { size, idle }
    }
}

fn postgres(conn: &mut Conn) -> &mut PgConn {
    match conn {
        Conn::Postgres(conn) => conn,
        Conn::Sqlite(_) => unreachable!("the PostgreSQL store lends PostgreSQL connections"),
    }
}

/// Whether a connection is fine after this failure: the database answered with an error (which
/// ends with it ready for the next statement), except the classes that mean it is going away.
fn leaves_connection_usable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => !db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57")),
        _ => false,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn age(open_secs: u64, idle_secs: u64) -> Age {
        Age {
            open: Duration::from_secs(open_secs),
            idle: Duration::from_secs(idle_secs),
        }
    }

    #[test]
    fn a_connection_is_pinged_after_a_quiet_second_and_retired_after_half_an_hour() {
        assert_eq!(check(age(600, 0)), Check::Nothing, "just given back");
        assert_eq!(check(age(600, 1)), Check::Ping, "idle a second");
        assert_eq!(check(age(1_800, 0)), Check::Retire, "open half an hour");
        assert_eq!(check(age(1_800, 5)), Check::Retire);
    }
}
