//! Customers' own pages of current bookings on PostgreSQL, read together: the requests that
//! arrive while earlier ones are being read go to the database in one statement.
//!
//! Each page is one indexed read of a few rows, and on PostgreSQL most of what a read costs is
//! not the rows: it is the round trip, the backend's wake-up and starting its executor, paid
//! again for every statement (the README's performance section). Under load many customers ask
//! at once, so their pages are read in one statement, each with its own login check, clock and
//! cursor: the same rows each would get alone, and a login ended before a request was made is
//! seen by the statement that answers it. A quiet server reads each page as it comes (a batch
//! of one); batches grow only while every reading slot is busy, so nothing waits on a timer.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use tokio::sync::{Semaphore, mpsc, oneshot};
use uuid::Uuid;

use super::{
    Read, Row, StoreError,
    booking_lists::{BookingFilter, current_page},
    booking_rows::{BookingRow, booking_select},
    logins::live_login,
    postgres::Postgres,
    query::{MAX_REPEATS, Repeated, repeated_texts},
    record,
};
use crate::domain::{booking::Booking, user::Role};

/// One customer's page: their login, the filter (their own bookings), and the request's clock.
#[derive(Clone)]
struct Ask {
    login_id: Uuid,
    filter: BookingFilter,
    now: DateTime<Utc>,
}

struct Pending {
    ask: Ask,
    reply: oneshot::Sender<Result<Vec<Booking>, StoreError>>,
}

/// The way in to the batches: requests wait here for the task that reads them.
pub struct PageBatches {
    requests: mpsc::Sender<Pending>,
    counts: Arc<PageBatchCounts>,
}

/// What the batches have done: how many statements read how many pages.
#[derive(Debug, Default)]
pub struct PageBatchCounts {
    pub batches: AtomicU64,
    pub pages: AtomicU64,
}

/// Requests queued beyond this wait to be queued (the server is far behind by then).
const QUEUE: usize = 4096;

impl PageBatches {
    /// Starts the task that reads batches, at most `slots` at a time (each on a connection of
    /// its own). It ends when this is dropped.
    pub fn start(db: Postgres, slots: usize) -> Self {
        let (requests, queue) = mpsc::channel(QUEUE);
        let counts = Arc::new(PageBatchCounts::default());
        tokio::spawn(read_batches(db, queue, slots.max(1), Arc::clone(&counts)));
        Self { requests, counts }
    }

    pub fn counts(&self) -> &PageBatchCounts {
        &self.counts
    }

    /// The customer's current bookings if their login `login_id` is live and they are not a
    /// provider; empty otherwise (or if there are none).
    pub async fn own_current(
        &self,
        login_id: Uuid,
        filter: BookingFilter,
        now: DateTime<Utc>,
    ) -> Result<Vec<Booking>, StoreError> {
        let (reply, answer) = oneshot::channel();
        let ask = Ask {
            login_id,
            filter,
            now,
        };
        let stopped = || StoreError::Unavailable("the page reader has stopped".into());
        self.requests
            .send(Pending { ask, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn read_batches(
    db: Postgres,
    mut queue: mpsc::Receiver<Pending>,
    slots: usize,
    counts: Arc<PageBatchCounts>,
) {
    let slots = Arc::new(Semaphore::new(slots));
    loop {
        // A slot first: while all are busy, requests gather in the queue for the next batch.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let mut batch = Vec::with_capacity(MAX_REPEATS);
        if queue.recv_many(&mut batch, MAX_REPEATS).await == 0 {
            return;
        }
        // Requests given up meanwhile (their clients gone, or past the time limit) are not read.
        batch.retain(|pending| !pending.reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        counts.batches.fetch_add(1, Ordering::Relaxed);
        counts
            .pages
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let db = db.clone();
        tokio::spawn(async move {
            answer(&db, batch).await;
            drop(slot);
        });
    }
}

/// Reads the batch and gives each request its page. If the statement fails, each request is
/// read again alone, so each gets the error (or the page) its own read would.
async fn answer(db: &Postgres, batch: Vec<Pending>) {
    let (asks, replies): (Vec<Ask>, Vec<_>) = batch.into_iter().map(|p| (p.ask, p.reply)).unzip();
    let asks = Arc::new(asks);
    let read = {
        let asks = Arc::clone(&asks);
        db.read(move |r| pages(r, Arc::clone(&asks)).boxed()).await
    };
    match read {
        Ok(pages) => {
            for (reply, page) in replies.into_iter().zip(pages) {
                // A request given up (its client gone) no longer listens.
                let _ = reply.send(Ok(page));
            }
        }
        Err(_) if asks.len() > 1 => {
            for (ask, reply) in asks.iter().cloned().zip(replies) {
                let alone = Arc::new(vec![ask]);
                let page = db
                    .read(move |r| pages(r, Arc::clone(&alone)).boxed())
                    .await
                    .map(|mut pages| pages.pop().unwrap_or_default());
                let _ = reply.send(page);
            }
        }
        Err(err) => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(err));
            }
        }
    }
}

/// Each request is a row of `VALUES`: its number, user, login, clock, service (or NULL),
/// cursor (or NULLs) and limit; `$1` is the provider's role, whose own list is another.
static PAGES: Repeated = Repeated::new(|| {
    repeated_texts(
        "SELECT q.request, b.* FROM (VALUES ",
        "({}::int8, {}::uuid, {}::uuid, {}::timestamptz, {}::uuid, {}::timestamptz, {}::uuid, \
         {}::int8)",
        ", ",
        concat!(
            ") AS q (request, user_id, login_id, at, service_id, after_start, after_id, \
             page_limit) CROSS JOIN LATERAL (",
            booking_select!(),
            "WHERE b.user_id = q.user_id AND EXISTS (SELECT 1 FROM logins l \
             JOIN users u ON u.id = l.user_id WHERE ",
            live_login!("q.login_id", "q.user_id", "q.at"),
            "AND u.role <> $1) ",
            current_page!(
                "q.at",
                "q.service_id",
                "q.after_start",
                "q.after_id",
                "q.page_limit"
            ),
            ") b ORDER BY q.request, b.starts_at, b.id"
        ),
        2,
    )
});

record! {
    struct PageRow {
        request: i64,
        booking: BookingRow,
    }
}

impl Row for PageRow {
    type Value = (i64, Booking);

    fn value(self) -> Result<(i64, Booking), StoreError> {
        Ok((self.request, self.booking.value()?))
    }
}

/// The pages of up to [`MAX_REPEATS`] requests, in their order.
async fn pages(r: &mut impl Read, asks: Arc<Vec<Ask>>) -> Result<Vec<Vec<Booking>>, StoreError> {
    let mut statement = PAGES.query(asks.len()).bind(Role::Provider.as_str());
    for (request, ask) in asks.iter().enumerate() {
        let (after_start, after_id) = ask.filter.after.unzip();
        statement = statement
            .bind(request as i64)
            .bind(ask.filter.user_id)
            .bind(ask.login_id)
            .bind(ask.now)
            .bind(ask.filter.service_id)
            .bind(after_start)
            .bind(after_id)
            .bind(ask.filter.limit);
    }
    let mut pages: Vec<Vec<Booking>> = asks.iter().map(|_| Vec::new()).collect();
    for (request, booking) in r.fetch_values::<PageRow>(statement).await? {
        let page = usize::try_from(request)
            .ok()
            .and_then(|request| pages.get_mut(request))
            .ok_or_else(|| super::corrupt(&format!("page request {request}")))?;
        page.push(booking);
    }
    Ok(pages)
}
