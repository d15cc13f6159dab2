//! The single writer: the one task (on a thread of its own) that writes to the SQLite file.
//!
//! It takes all the operations waiting in its queue, runs each under its own savepoint inside one
//! `BEGIN IMMEDIATE` transaction, commits once, and only then answers each caller (group commit):
//! one fsync pays for the whole batch, and an operation that fails rolls back to its savepoint
//! without touching its neighbours.

use std::{
    panic::AssertUnwindSafe,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use futures_util::{FutureExt, future::BoxFuture};
use tokio::sync::{Notify, mpsc};

use super::{
    checkpointer::Committed,
    conn::{Options, SqliteConn},
};
use crate::store::lease::Connections;
use crate::store::{
    conn::{Conn, Writer},
    events,
    principals::PrincipalCache,
    query::query,
};

/// The most operations one commit carries; more wait for the next.
pub(super) const MAX_BATCH: usize = 256;

/// One queued operation, boxed so that operations of any result type share the queue.
pub(super) type Job = Box<dyn for<'c> FnOnce(&'c mut Writer) -> BoxFuture<'c, Done> + Send>;

/// Answers a job's caller once its batch's commit is known (`Some(reason)` if it failed).
pub(super) type Answer = Box<dyn FnOnce(Option<&str>) + Send>;

/// What a job left behind: whether to keep its savepoint, and how to answer its caller.
pub(super) struct Done {
    pub keep: bool,
    pub answer: Answer,
}

/// What the writer has done: how many commits carried how many writes.
#[derive(Debug, Default)]
pub struct WriterCounts {
    pub commits: AtomicU64,
    pub writes: AtomicU64,
}

pub(super) async fn run(
    pool: Arc<Connections<Options>>,
    mut queue: mpsc::Receiver<Job>,
    counts: Arc<WriterCounts>,
    logins: Arc<PrincipalCache>,
    outbox: Arc<Notify>,
    checkpoints: Committed,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        counts.commits.fetch_add(1, Ordering::Relaxed);
        counts
            .writes
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        commit_batch(&pool, &mut batch, &logins, &outbox).await;
        checkpoints.tell();
    }
}

/// The connection every write of the batch runs on.
fn sqlite(writer: &mut Writer) -> &mut SqliteConn {
    match &mut writer.conn {
        Conn::Sqlite(conn) => conn,
        Conn::Postgres(_) => unreachable!("the SQLite writer holds a SQLite connection"),
    }
}

/// Runs and commits one batch. A job dropped without running (because the batch broke before
/// its turn) answers its caller with "abandoned" through its dropped channel.
async fn commit_batch(
    pool: &Arc<Connections<Options>>,
    batch: &mut Vec<Job>,
    logins: &PrincipalCache,
    outbox: &Notify,
) {
    let mut writer = match pool.lease().await {
        Ok(conn) => Writer::new(Conn::Sqlite(SqliteConn::new(conn))),
        Err(err) => {
            tracing::error!(error = %err, jobs = batch.len(), "no connection for a write batch");
            batch.clear();
            return;
        }
    };
    if let Err(err) = writer.execute(query("BEGIN IMMEDIATE")).await {
        tracing::error!(error = %err, jobs = batch.len(), "could not begin a write batch");
        batch.clear();
        return;
    }
    let mut answers = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        if sqlite(&mut writer).broken.is_some() {
            continue;
        }
        sqlite(&mut writer).begin_operation();
        let recorded = writer.events.len();
        let done = AssertUnwindSafe(job(&mut writer)).catch_unwind().await;
        let keep = matches!(&done, Ok(done) if done.keep);
        sqlite(&mut writer).end_operation(keep);
        if !keep {
            // Its changes are rolled back to its savepoint; so are its events.
            writer.events.truncate(recorded);
        }
        match done {
            Ok(done) => answers.push(done.answer),
            Err(_) => tracing::error!("a write operation panicked; its changes were rolled back"),
        }
    }
    // The batch's events go in with it, in one statement before the commit.
    if sqlite(&mut writer).broken.is_none()
        && let Err(err) = events::flush(&mut writer).await
    {
        sqlite(&mut writer)
            .broken
            .get_or_insert_with(|| format!("writing the batch's events: {err}"));
    }
    let broken = sqlite(&mut writer).broken.take();
    let outcome = match broken {
        None => writer
            .execute(query("COMMIT"))
            .await
            .map(drop)
            .map_err(|e| e.to_string()),
        Some(reason) => Err(reason),
    };
    if let Err(reason) = &outcome {
        sqlite(&mut writer).roll_back();
        tracing::error!(error = %reason, jobs = answers.len(), "write batch failed; none of it was committed");
    }
    // Before anyone is answered, so no request after an ended login finds it cached.
    if writer.logins_changed {
        logins.clear();
    }
    if writer.outbox_changed && outcome.is_ok() {
        outbox.notify_one();
    }
    let failure = outcome.err();
    for answer in answers {
        answer(failure.as_deref());
    }
}
