//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, readers that
//! cannot change anything (`query_only`, used on the calling thread: [`reader`]), and a single
//! writer task ([`writer`]).
//!
//! Every write goes through the writer, so SQLite never answers "database is locked" to us and
//! the tail stays bounded.

mod checkpointer;
mod conn;
mod record;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod upgrade_tests;
mod writer;

use std::{path::Path, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use sqlx::{
    ConnectOptions, Connection, SqliteConnection,
    sqlite::{SqliteConnectOptions, SqliteJournalMode},
};
use tokio::sync::{Notify, mpsc, oneshot};

use conn::Options;
pub use conn::SqliteConn;
pub(crate) use record::{SqliteField, SqliteRecord};
pub use writer::WriterCounts;

use super::{
    PoolStats, StoreError,
    conn::{Conn, Reader, Writer},
    lease::Connections,
    principals::PrincipalCache,
    query::query,
};
use writer::{Done, Job};

/// Operations waiting for the writer beyond this make callers wait to enqueue (backpressure).
const QUEUE_DEPTH: usize = 8192;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The writer's thread's name, as `top -H` and the benchmark's CPU figures see it.
pub const WRITER_THREAD: &str = "sqlite-writer";

pub struct Sqlite {
    readers: Arc<Connections<Options>>,
    writer: mpsc::Sender<Job>,
    counts: Arc<WriterCounts>,
}

/// sqlx's connections (migrating, backing up), set as the store's own are ([`conn::PRAGMAS`]).
pub(super) fn options(path: &Path) -> SqliteConnectOptions {
    conn::PRAGMAS.iter().fold(
        SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(BUSY_TIMEOUT),
        |options, &(pragma, value)| options.pragma(pragma, value),
    )
}

impl Sqlite {
    /// Opens (creating it if need be) and migrates the database; `logins` is the cache of live
    /// logins that writes which end logins clear, `outbox` is told of commits that left it work.
    pub async fn open(
        path: &Path,
        readers: u32,
        logins: Arc<PrincipalCache>,
        outbox: Arc<Notify>,
    ) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        // sqlx migrates (and sets WAL, which the file keeps); the store's own connections
        // come after.
        let mut migrating = options(path)
            .journal_mode(SqliteJournalMode::Wal)
            .create_if_missing(true)
            .connect()
            .await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&mut migrating)
            .await?;
        migrating.close().await?;
        let writer_options = Options {
            path: path.to_owned(),
            query_only: false,
        };
        let first = writer_options.connect()?;
        let checkpoints = checkpointer::start(writer_options.clone())?;
        let write_pool = Arc::new(Connections::new(writer_options, 1, vec![first]));
        let readers = Arc::new(Connections::new(
            Options {
                path: path.to_owned(),
                query_only: true,
            },
            readers,
            Vec::new(),
        ));
        let (writer, queue) = mpsc::channel(QUEUE_DEPTH);
        let counts = Arc::new(WriterCounts::default());
        // The writer's statements (and each commit's fsync) block the thread they run on: a
        // thread of its own, so requests never wait behind them. It ends when the store is
        // dropped (its queue closes).
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        let work = writer::run(
            write_pool,
            queue,
            Arc::clone(&counts),
            logins,
            outbox,
            checkpoints,
        );
        std::thread::Builder::new()
            .name(WRITER_THREAD.into())
            .spawn(move || runtime.block_on(work))?;
        Ok(Self {
            readers,
            writer,
            counts,
        })
    }

    pub fn writer_counts(&self) -> &WriterCounts {
        &self.counts
    }

    pub async fn read<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut Reader) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let conn = self.readers.lease().await?;
        let mut reader = Reader(Conn::Sqlite(SqliteConn::new(conn)));
        let result = op(&mut reader).await;
        if let Reader(Conn::Sqlite(conn)) = &mut reader
            && conn.broken.is_some()
        {
            conn.conn.discard();
        }
        result
    }

    pub async fn write<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Writer) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let (answer_tx, answer_rx) = oneshot::channel();
        let queued: Job = Box::new(move |writer| {
            Box::pin(async move {
                let result = op(writer).await;
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

    /// Ready means a write can be committed: through the writer, and a real change (a bare
    /// `SELECT 1` in a write transaction commits nothing, even on a full disk).
    pub async fn ping(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(move |w| {
            Box::pin(async move {
                let heartbeat = query(
                    "INSERT INTO readiness (id, checked_at) VALUES (1, $1) \
                     ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                )
                .bind(now);
                w.execute(heartbeat).await.map(drop)
            })
        })
        .await
    }

    pub fn pool_stats(&self) -> PoolStats {
        let (size, idle) = self.readers.stats();
        PoolStats {
            size: size + 1,
            idle,
        }
    }
}

/// Copies the database at `path` into a new file `to`: a consistent snapshot of every commit made
/// before the copy began, taken beside a running server (WAL lets a reader see one point in time
/// while the writer goes on). Answers `PRAGMA integrity_check` of the copy.
pub async fn backup(path: &Path, to: &Path) -> anyhow::Result<String> {
    anyhow::ensure!(
        path.exists(),
        "there is no database at {} (is --data-dir right?)",
        path.display()
    );
    anyhow::ensure!(!to.exists(), "{} exists; name a new file", to.display());
    let mut source = SqliteConnection::connect_with(&options(path).read_only(true)).await?;
    let target = to
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path is not UTF-8"))?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&mut source)
        .await?;
    source.close().await?;
    let copy_options = SqliteConnectOptions::new().filename(to).read_only(true);
    let mut copy = SqliteConnection::connect_with(&copy_options).await?;
    let (verdict,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await?;
    copy.close().await?;
    Ok(verdict)
}
