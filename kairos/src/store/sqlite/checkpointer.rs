//! The checkpointer: the thread that copies the write-ahead log's pages back into the database
//! file, so the single writer never stops to do it.
//!
//! In WAL mode a commit appends its pages to the log, and a checkpoint copies them into the
//! database file (and fsyncs it) so the log can start over. SQLite runs one on the committing
//! connection whenever the log passes 1,000 pages: on our one writer that was a fifth of its CPU
//! time and two fsyncs, paid inside whichever batch crossed the line while every caller of the
//! batches behind it waited (README, "Checkpoints beside the writer"). Here a connection of its
//! own runs a passive checkpoint, which waits for no reader and no writer, at most every
//! [`EVERY`] when something was committed meanwhile; a page written many times in that time is
//! copied once. The writer keeps SQLite's own checkpoint as a backstop at [`BACKSTOP_PAGES`].
//!
//! The log starts over only when the writer begins a batch after a checkpoint has copied all of
//! it; under sustained writes the writer is rarely between batches at that moment, so the log
//! grows until the backstop, where the writer's own checkpoint finds little left to copy and its
//! next batch starts the log over. The backstop also bounds the log if this thread falls behind
//! or cannot open its connection.

use std::{
    sync::mpsc::{self, Receiver, SyncSender},
    thread,
    time::Duration,
};

use super::conn::Options;

/// The shortest time between two checkpoints. Each one ends in an fsync of the database file
/// that the writer's next commit (an fsync of the log) waits behind on the disk: small and often
/// kept booking's p99 where it was, where every 100 ms or 500 ms added a quarter to it
/// (`docs/bench/checkpointer/`).
pub(super) const EVERY: Duration = Duration::from_millis(25);

/// Log pages (4 KiB each) past which the committing writer checkpoints itself, as SQLite does by
/// default at 1,000; by then this thread has copied nearly all of them.
pub(super) const BACKSTOP_PAGES: u32 = 10_000;

/// The writer's end: tells the checkpointer that a commit left pages in the log. The thread ends
/// once this is dropped (with the writer).
pub(super) struct Committed(SyncSender<()>);

impl Committed {
    /// Never waits: one signal pending is enough, however many commits it stands for.
    pub(super) fn tell(&self) {
        let _ = self.0.try_send(());
    }
}

/// Starts the checkpointer on a thread of its own (a checkpoint blocks on the disk).
pub(super) fn start(options: Options) -> std::io::Result<Committed> {
    let (committed, commits) = mpsc::sync_channel(1);
    thread::Builder::new()
        .name("sqlite-checkpointer".into())
        .spawn(move || run(&options, &commits))?;
    Ok(Committed(committed))
}

fn run(options: &Options, commits: &Receiver<()>) {
    let conn = match options.connect() {
        Ok(conn) => conn,
        Err(err) => {
            tracing::error!(error = %err, "no connection for checkpoints; the writer checkpoints itself");
            return;
        }
    };
    // Said once when checkpoints start failing (a full disk fails every one) and once when
    // they work again, not every few milliseconds.
    let mut failing = false;
    while commits.recv().is_ok() {
        // busy (another checkpoint ran), pages in the log, pages copied.
        let outcome = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        });
        match outcome {
            Ok((busy, log, copied)) => {
                tracing::debug!(busy, log, copied, "checkpoint");
                if std::mem::take(&mut failing) {
                    tracing::info!("checkpoints work again");
                }
            }
            Err(err) if !failing => {
                failing = true;
                tracing::warn!(error = %err, "checkpoints are failing; the writer's own bounds the log");
            }
            Err(_) => {}
        }
        thread::sleep(EVERY);
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use crate::store::{conn::Read, query::query, sqlite::tests::open};

    /// Rows of `login_failures` in the database file alone: a copy of it without its log. A copy
    /// taken while a checkpoint writes may be torn; that counts as none yet.
    fn rows_in_the_file(path: &std::path::Path, copy: &std::path::Path) -> i64 {
        let _ = std::fs::remove_file(copy);
        std::fs::copy(path, copy).expect("copy the file alone");
        rusqlite::Connection::open(copy)
            .and_then(|conn| {
                conn.query_row("SELECT COUNT(*) FROM login_failures", [], |row| row.get(0))
            })
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn commits_reach_the_database_file_long_before_the_log_is_full() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("kairos.db");
        let sqlite = open(&path).await;
        let writes = (0..50).map(|n| {
            sqlite.write(move |w| {
                w.execute(
                    query(
                        "INSERT INTO login_failures (email_key, failures, window_started_at) \
                         VALUES ($1, 1, '2026-01-01T00:00:00+00:00')",
                    )
                    .bind(format!("k{n}")),
                )
                .boxed()
            })
        });
        for written in futures_util::future::join_all(writes).await {
            written.expect("write");
        }
        let (backstop,): (i64,) = sqlite
            .write(|w| w.fetch_one(query("PRAGMA wal_autocheckpoint")).boxed())
            .await
            .expect("the writer's backstop");
        assert_eq!(backstop, i64::from(super::BACKSTOP_PAGES));
        // A few pages in the log, far below the 1,000 at which SQLite would copy them itself
        // (and the writer's backstop): only the checkpointer puts them in the file.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let copy = dir.path().join("copy.db");
        while rows_in_the_file(&path, &copy) < 50 {
            assert!(
                std::time::Instant::now() < deadline,
                "the commits never reached the database file"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
