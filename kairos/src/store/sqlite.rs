//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, a pool of readers,
//! and a single writer task.
//!
//! Every write goes through the writer, so SQLite never answers "database is locked" to us and
//! the tail stays bounded. The writer takes all the operations waiting in its queue, runs each
//! under its own savepoint inside one `BEGIN IMMEDIATE` transaction, commits once, and only then
//! answers each caller (group commit): one fsync pays for the whole batch, and an operation that
//! fails rolls back to its savepoint without touching its neighbours.
//!
//! sqlx runs each SQLite connection on a thread of its own, so every call is a round trip between
//! threads. The writer therefore sends its savepoint statements (the last operation's `RELEASE`
//! or `ROLLBACK TO`, this one's `SAVEPOINT`) in the same call as the operation's first statement.

use std::{
    panic::AssertUnwindSafe,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use futures_util::{FutureExt, StreamExt, future::BoxFuture};
use sqlx::{
    Sqlite as Db,
    pool::PoolConnection,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};
use tokio::sync::{mpsc, oneshot};

use super::{
    Constraint, PoolStats, StoreError,
    backend::Backend,
    sql::{Conn, Dialect, Query, Record, bind_args},
};

/// The most operations one commit carries; more wait for the next.
const MAX_BATCH: usize = 256;
/// Operations waiting for the writer beyond this make callers wait to enqueue (backpressure).
const QUEUE_DEPTH: usize = 8192;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Sqlite {
    readers: SqlitePool,
    writer: mpsc::Sender<Job>,
    counts: Arc<WriterCounts>,
}

/// What the writer has done: how many commits carried how many writes.
#[derive(Debug, Default)]
pub struct WriterCounts {
    pub commits: AtomicU64,
    pub writes: AtomicU64,
}

/// A connection as store operations use it. On the writer it carries the savepoint statements
/// the writer still owes, and sends them with the operation's next statement.
pub struct SqliteConn {
    conn: PoolConnection<Db>,
    /// Statements to send before the next one, in the same call.
    owed: String,
    /// Whether the current operation has sent anything (so its savepoint exists).
    sent: bool,
    /// Set when a call failed in a way that may have ended the transaction (I/O, disk full, an
    /// unexpected error): nothing more may run in this batch, and none of it may commit.
    broken: Option<String>,
}

const SAVEPOINT: &str = "SAVEPOINT kairos_write; ";
const RELEASE: &str = "RELEASE kairos_write; ";
const ROLLBACK_TO: &str = "ROLLBACK TO kairos_write; RELEASE kairos_write; ";

impl SqliteConn {
    /// Wraps a pooled connection; outside the writer nothing is ever owed.
    pub fn new(conn: PoolConnection<Db>) -> Self {
        Self {
            conn,
            owed: String::new(),
            sent: false,
            broken: None,
        }
    }

    /// An operation begins: it owes a savepoint, sent with its first statement.
    fn begin_operation(&mut self) {
        self.owed.push_str(SAVEPOINT);
        self.sent = false;
    }

    /// An operation ended: keep or undo what it did.
    fn end_operation(&mut self, keep: bool) {
        if self.sent {
            self.owed.push_str(if keep { RELEASE } else { ROLLBACK_TO });
        } else if let Some(unsent) = self.owed.strip_suffix(SAVEPOINT) {
            // It sent nothing: it never had a savepoint.
            self.owed.truncate(unsent.len());
        }
        self.sent = false;
    }

    /// A statement's text with what is owed in front of it.
    fn text(&mut self, text: &'static str) -> sqlx::SqlStr {
        self.sent = true;
        if self.owed.is_empty() {
            sqlx::SqlSafeStr::into_sql_str(text)
        } else {
            let mut owed = std::mem::take(&mut self.owed);
            owed.push_str(text);
            sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(owed))
        }
    }

    /// A constraint violation or a refusal is the operation's own; anything else may have ended
    /// the transaction under the batch.
    fn note<T>(&mut self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(err @ (StoreError::Unavailable(_) | StoreError::Database(_))) = &result {
            self.broken.get_or_insert_with(|| err.to_string());
        }
        result
    }
}

/// One queued operation, boxed so that operations of any result type share the queue.
type Job = Box<dyn for<'c> FnOnce(&'c mut SqliteConn) -> BoxFuture<'c, Done> + Send>;

/// Answers a job's caller once its batch's commit is known (`Some(reason)` if it failed).
type Answer = Box<dyn FnOnce(Option<&str>) + Send>;

/// What a job left behind: whether to keep its savepoint, and how to answer its caller.
struct Done {
    keep: bool,
    answer: Answer,
}

fn job<F>(f: F) -> Job
where
    F: for<'c> FnOnce(&'c mut SqliteConn) -> BoxFuture<'c, Done> + Send + 'static,
{
    Box::new(f)
}

impl Sqlite {
    pub async fn open(path: &Path, readers: u32) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A confirmed booking must survive power loss, not only a crash of the process.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            // Room for every statement, and on the writer for each with its savepoint prefixes.
            .statement_cache_capacity(1000);
        let write_pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&write_pool)
            .await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(readers.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        let (writer, queue) = mpsc::channel(QUEUE_DEPTH);
        let counts = Arc::new(WriterCounts::default());
        tokio::spawn(run_writer(write_pool, queue, Arc::clone(&counts)));
        Ok(Self {
            readers,
            writer,
            counts,
        })
    }

    pub fn writer_counts(&self) -> &WriterCounts {
        &self.counts
    }
}

impl Backend for Sqlite {
    type Conn = SqliteConn;

    async fn read<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConn) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let conn = self.readers.acquire().await.map_err(classify)?;
        op(&mut SqliteConn::new(conn)).await
    }

    async fn write<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConn) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let (answer_tx, answer_rx) = oneshot::channel();
        let queued = job(move |conn| {
            Box::pin(async move {
                let result = op(conn).await;
                Done {
                    keep: result.is_ok(),
                    answer: Box::new(move |commit_failure| {
                        let answer = match (result, commit_failure) {
                            (Ok(value), None) => Ok(value),
                            (Ok(_), Some(reason)) => Err(StoreError::Unavailable(reason.into())),
                            (Err(err), _) => Err(err),
                        };
                        // The caller may have gone away (its request was cancelled); the write
                        // stands all the same.
                        let _ = answer_tx.send(answer);
                    }),
                }
            })
        });
        self.writer
            .send(queued)
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?;
        answer_rx.await.map_err(|_| {
            StoreError::Unavailable("the write was abandoned; its batch could not run".into())
        })?
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // Through the writer, and a real change: ready means a write can be committed.
        let now = crate::domain::clock::now();
        self.write(move |conn| {
            Box::pin(async move {
                let heartbeat = super::sql::query(
                    "INSERT INTO readiness (id, checked_at) VALUES (1, $1) \
                     ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                )
                .bind(now);
                conn.execute(heartbeat).await.map(drop)
            })
        })
        .await
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.readers.size() + 1,
            idle: u32::try_from(self.readers.num_idle()).unwrap_or(u32::MAX),
        }
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn sole_writer(&self) -> bool {
        true
    }
}

async fn run_writer(pool: SqlitePool, mut queue: mpsc::Receiver<Job>, counts: Arc<WriterCounts>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        counts.commits.fetch_add(1, Ordering::Relaxed);
        counts
            .writes
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        commit_batch(&pool, &mut batch).await;
    }
}

/// Runs and commits one batch. A job dropped without running (because the batch broke before
/// its turn) answers its caller with "abandoned" through its dropped channel.
async fn commit_batch(pool: &SqlitePool, batch: &mut Vec<Job>) {
    let mut conn = match pool.acquire().await {
        Ok(conn) => SqliteConn::new(conn),
        Err(err) => {
            tracing::error!(error = %err, jobs = batch.len(), "no connection for a write batch");
            batch.clear();
            return;
        }
    };
    if let Err(err) = conn.execute(super::sql::query("BEGIN IMMEDIATE")).await {
        tracing::error!(error = %err, jobs = batch.len(), "could not begin a write batch");
        batch.clear();
        return;
    }
    let mut answers = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        if conn.broken.is_some() {
            continue;
        }
        conn.begin_operation();
        let done = AssertUnwindSafe(job(&mut conn)).catch_unwind().await;
        conn.end_operation(matches!(&done, Ok(done) if done.keep));
        match done {
            Ok(done) => answers.push(done.answer),
            Err(_) => tracing::error!("a write operation panicked; its changes were rolled back"),
        }
    }
    let outcome = match conn.broken.take() {
        // What is still owed (the last RELEASE) goes with the COMMIT.
        None => conn
            .execute(super::sql::query("COMMIT"))
            .await
            .map(drop)
            .map_err(|e| e.to_string()),
        Some(reason) => Err(reason),
    };
    if let Err(reason) = &outcome {
        conn.owed.clear();
        let _ = sqlx::query::<Db>("ROLLBACK").execute(&mut *conn.conn).await;
        tracing::error!(error = %reason, jobs = answers.len(), "write batch failed; none of it was committed");
    }
    let failure = outcome.err();
    for answer in answers {
        answer(failure.as_deref());
    }
}

impl Conn for SqliteConn {
    const DIALECT: Dialect = Dialect::Sqlite;

    async fn execute(&mut self, query: Query) -> Result<u64, StoreError> {
        let owes = !self.owed.is_empty();
        let text = self.text(query.text);
        let statement = bind_args(sqlx::query::<Db>(text), query.args);
        let result = if owes {
            // SQLite reports the last INSERT/UPDATE/DELETE's changes after a SAVEPOINT or
            // RELEASE too, so summing over the call would count the previous operation's rows:
            // only the last statement's count is this statement's.
            #[allow(deprecated)]
            let mut results = statement.execute_many(&mut *self.conn).await;
            let mut last = Ok(0);
            while let Some(result) = results.next().await {
                last = result.map(|done| done.rows_affected());
                if last.is_err() {
                    break;
                }
            }
            last
        } else {
            statement
                .execute(&mut *self.conn)
                .await
                .map(|done| done.rows_affected())
        };
        self.note(result.map_err(classify))
    }

    async fn fetch_optional<R: Record>(&mut self, query: Query) -> Result<Option<R>, StoreError> {
        let text = self.text(query.text);
        let row = bind_args(sqlx::query::<Db>(text), query.args)
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(classify);
        let row = self.note(row)?;
        row.map(|row| R::from_row(&row))
            .transpose()
            .map_err(classify)
    }

    async fn fetch_all<R: Record>(&mut self, query: Query) -> Result<Vec<R>, StoreError> {
        let text = self.text(query.text);
        let rows = bind_args(sqlx::query::<Db>(text), query.args)
            .fetch_all(&mut *self.conn)
            .await
            .map_err(classify);
        let rows = self.note(rows)?;
        rows.iter()
            .map(|row| R::from_row(row))
            .collect::<Result<_, _>>()
            .map_err(classify)
    }
}

/// SQLite's primary result codes that mean "cannot serve now" rather than "bad statement":
/// BUSY, LOCKED, READONLY, IOERR, CORRUPT, FULL, CANTOPEN.
const UNAVAILABLE_CODES: [i64; 7] = [5, 6, 8, 10, 11, 13, 14];

fn classify(err: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        if let Some(constraint) = Constraint::from_sqlite_message(db.message()) {
            return StoreError::Violation(constraint);
        }
        let primary = db
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            .map(|code| code & 0xff);
        if primary.is_some_and(|code| UNAVAILABLE_CODES.contains(&code)) {
            return StoreError::Unavailable(err.to_string());
        }
    }
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err.to_string()),
        other => StoreError::Database(other),
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;
    use crate::{domain::refusal::Refusal, store::sql::query};

    async fn read_pragma(c: &mut SqliteConn, name: &'static str) -> Result<String, StoreError> {
        let statement = match name {
            "journal_mode" => "PRAGMA journal_mode",
            "synchronous" => "SELECT CAST(synchronous AS TEXT) FROM pragma_synchronous",
            "foreign_keys" => "SELECT CAST(foreign_keys AS TEXT) FROM pragma_foreign_keys",
            _ => "SELECT CAST(timeout AS TEXT) FROM pragma_busy_timeout",
        };
        c.fetch_one::<(String,)>(query(statement))
            .await
            .map(|(v,)| v)
    }

    #[tokio::test]
    async fn every_connection_is_wal_full_sync_with_foreign_keys_and_a_busy_timeout() {
        let dir = tempfile::tempdir().expect("dir");
        let sqlite = Sqlite::open(&dir.path().join("kairos.db"), 2)
            .await
            .expect("open");
        for (name, expected) in [
            ("journal_mode", "wal"),
            ("synchronous", "2"),
            ("foreign_keys", "1"),
            ("busy_timeout", "5000"),
        ] {
            let writer = sqlite
                .write(move |c| read_pragma(c, name).boxed())
                .await
                .expect("writer");
            let reader = sqlite
                .read(move |c| read_pragma(c, name).boxed())
                .await
                .expect("reader");
            assert_eq!(
                (writer.as_str(), reader.as_str()),
                (expected, expected),
                "{name}"
            );
        }
    }

    /// Inserts a row, then fails if `n` is a multiple of three: its own insert must be undone,
    /// and only it.
    async fn insert_then_maybe_fail(c: &mut SqliteConn, n: i64) -> Result<i64, StoreError> {
        c.execute(
            query(
                "INSERT INTO login_failures (email_key, failures, window_started_at) \
                 VALUES ($1, $2, '2026-01-01T00:00:00+00:00')",
            )
            .bind(format!("k{n}"))
            .bind(n),
        )
        .await?;
        if n % 3 == 0 {
            return Err(StoreError::Refused(Refusal::SessionFull));
        }
        Ok(n)
    }

    #[tokio::test]
    async fn a_write_counts_only_its_own_rows_after_the_savepoint_statements() {
        let dir = tempfile::tempdir().expect("dir");
        let sqlite = Sqlite::open(&dir.path().join("kairos.db"), 2)
            .await
            .expect("open");
        // Each write's first statement follows the previous one's RELEASE in the same call;
        // SQLite would report the previous INSERT's row count for those.
        let inserted = (0..20).map(|n| {
            sqlite.write(move |c| {
                async move {
                    let inserted = c
                        .execute(
                            query(
                                "INSERT INTO login_failures (email_key, failures, \
                                 window_started_at) VALUES ($1, 1, '2026-01-01T00:00:00+00:00')",
                            )
                            .bind(format!("k{n}")),
                        )
                        .await?;
                    let updated = c
                        .execute(
                            query("UPDATE login_failures SET failures = 2 WHERE email_key = $1")
                                .bind("nobody"),
                        )
                        .await?;
                    Ok((inserted, updated))
                }
                .boxed()
            })
        });
        let untouched = sqlite.write(|c| {
            c.execute(query(
                "DELETE FROM login_failures WHERE email_key = 'nobody'",
            ))
            .boxed()
        });
        let (inserted, untouched) =
            tokio::join!(futures_util::future::join_all(inserted), untouched);
        for result in inserted {
            assert_eq!(result.expect("write"), (1, 0));
        }
        assert_eq!(untouched.expect("delete"), 0);
    }

    #[tokio::test]
    async fn a_failing_write_in_a_batch_does_not_fail_its_neighbours() {
        let dir = tempfile::tempdir().expect("dir");
        let sqlite = Sqlite::open(&dir.path().join("kairos.db"), 2)
            .await
            .expect("open");
        // Queued together, so the writer takes them in batches.
        let writes = (1..=30).map(|n| sqlite.write(move |c| insert_then_maybe_fail(c, n).boxed()));
        let results = futures_util::future::join_all(writes).await;
        for (n, result) in (1..=30).zip(&results) {
            assert_eq!(result.is_ok(), n % 3 != 0, "write {n}: {result:?}");
        }
        let (rows,): (i64,) = sqlite
            .read(|c| {
                c.fetch_one(query("SELECT COUNT(*) FROM login_failures"))
                    .boxed()
            })
            .await
            .expect("count");
        assert_eq!(rows, 20);
        let commits = sqlite.writer_counts().commits.load(Ordering::Relaxed);
        assert!(
            commits < 30,
            "30 writes took {commits} commits: nothing was grouped"
        );
    }
}
