//! Bulk fixtures for the benchmark and the test kit (built only with the `fixtures` feature, so
//! the server never has them): many customers, sessions and bookings in a few set-based
//! statements, straight into the database (the API would take hours for a million bookings).

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use super::{Dialect, Read, Store, StoreError, Writer, query};

/// `customers` customers (`bulk-<n>@bench.invalid`, sharing one password hash) and `bookings`
/// Pending bookings spread over `sessions` sessions of the service, `bookings / sessions` each.
#[derive(Debug, Clone)]
pub struct BulkBookings {
    pub customers: u64,
    pub sessions: u64,
    pub bookings: u64,
    /// Every customer's (the same one: hashing a million passwords would take hours).
    pub password_hash: String,
    /// The service the sessions are of, and its provider.
    pub provider_id: Uuid,
    pub service_id: Uuid,
    /// The first session starts here; the others follow an hour apart.
    pub first_start: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// Creates a PostgreSQL database named `name` on the server `admin_url` points at (for a test
/// or a benchmark run of its own).
pub async fn create_postgres_database(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect(admin_url).await?;
    let statement = format!("CREATE DATABASE {}", quoted(name));
    sqlx::query(sqlx::AssertSqlSafe(statement))
        .execute(&mut conn)
        .await
        .map(drop)
}

/// Drops the database `name` (and any connection still open to it).
pub async fn drop_postgres_database(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect(admin_url).await?;
    let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quoted(name));
    sqlx::query(sqlx::AssertSqlSafe(statement))
        .execute(&mut conn)
        .await
        .map(drop)
}

/// A database name as an SQL identifier: quoted, so no name is read as SQL.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Loads the bookings, then settles the database as one that grew to this size would be.
pub async fn bulk_load(store: &Store, fixture: BulkBookings) -> Result<(), StoreError> {
    store.write(move |w| load(w, fixture).boxed()).await?;
    store.read(|r| settle(r).boxed()).await
}

/// Leaves the database as one that grew to this size would be, so the first requests after
/// the load do not pay for it: PostgreSQL's autovacuum would have analysed the tables on the
/// way, and SQLite would have checkpointed its write-ahead log many times over.
async fn settle(r: &mut impl Read) -> Result<(), StoreError> {
    let statement = match r.dialect() {
        Dialect::Postgres => "ANALYZE users, sessions, bookings, waitlist_entries",
        Dialect::Sqlite => "PRAGMA wal_checkpoint(TRUNCATE)",
    };
    r.fetch_all::<(i64, i64, i64)>(query(statement)).await?;
    Ok(())
}

fn n(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

async fn load(w: &mut Writer, f: BulkBookings) -> Result<(), StoreError> {
    let per_session = f.bookings.div_ceil(f.sessions.max(1)).max(1);
    let users = match w.dialect() {
        Dialect::Sqlite => {
            "WITH RECURSIVE series(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM series WHERE x + 1 < $1) \
             INSERT INTO users (id, email, email_key, password_hash, role, is_chirpy_red, created_at, updated_at) \
             SELECT randomblob(16), 'bulk-' || x || '@bench.invalid', 'bulk-' || x || '@bench.invalid', \
             $2, 'customer', FALSE, $3, $3 FROM series"
        }
        Dialect::Postgres => {
            "INSERT INTO users (id, email, email_key, password_hash, role, is_chirpy_red, created_at, updated_at) \
             SELECT gen_random_uuid(), 'bulk-' || x || '@bench.invalid', 'bulk-' || x || '@bench.invalid', \
             $2, 'customer', FALSE, $3, $3 FROM generate_series(0, $1 - 1) AS series(x)"
        }
    };
    w.execute(
        query(users)
            .bind(n(f.customers))
            .bind(f.password_hash)
            .bind(f.now),
    )
    .await?;
    let sessions = match w.dialect() {
        Dialect::Sqlite => {
            "WITH RECURSIVE series(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM series WHERE x + 1 < $1) \
             INSERT INTO sessions (id, service_id, starts_at, ends_at, location, capacity, booked, \
             additional_information, status, sequence, created_at, updated_at) \
             SELECT randomblob(16), $2, \
             strftime('%Y-%m-%dT%H:%M:%S+00:00', $3 + x * 3600, 'unixepoch'), \
             strftime('%Y-%m-%dT%H:%M:%S+00:00', $3 + x * 3600 + 3000, 'unixepoch'), \
             '', $4, 0, '[]', 'scheduled', 0, $5, $5 FROM series"
        }
        Dialect::Postgres => {
            "INSERT INTO sessions (id, service_id, starts_at, ends_at, location, capacity, booked, \
             additional_information, status, sequence, created_at, updated_at) \
             SELECT gen_random_uuid(), $2, to_timestamp($3 + x * 3600), \
             to_timestamp($3 + x * 3600 + 3000), '', $4, 0, '[]', 'scheduled', 0, $5, $5 \
             FROM generate_series(0, $1 - 1) AS series(x)"
        }
    };
    w.execute(
        query(sessions)
            .bind(n(f.sessions))
            .bind(f.service_id)
            .bind(f.first_start.timestamp())
            .bind(n(per_session))
            .bind(f.now),
    )
    .await?;
    let bookings = match w.dialect() {
        Dialect::Sqlite => {
            "WITH RECURSIVE series(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM series WHERE x + 1 < $1), \
             u AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM users \
                   WHERE email_key LIKE 'bulk-%@bench.invalid' AND role = 'customer'), \
             s AS (SELECT id, starts_at, row_number() OVER (ORDER BY starts_at, id) - 1 AS n \
                   FROM sessions WHERE service_id = $2) \
             INSERT INTO bookings (id, user_id, service_id, provider_id, session_id, status, sequence, \
             created_at, updated_at, session_starts_at) \
             SELECT randomblob(16), u.id, $2, $3, s.id, 'Pending', 0, $4, $4, s.starts_at \
             FROM series JOIN u ON u.n = series.x % $5 JOIN s ON s.n = series.x / $6"
        }
        Dialect::Postgres => {
            "WITH u AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM users \
                        WHERE email_key LIKE 'bulk-%@bench.invalid' AND role = 'customer'), \
                  s AS (SELECT id, starts_at, row_number() OVER (ORDER BY starts_at, id) - 1 AS n \
                        FROM sessions WHERE service_id = $2) \
             INSERT INTO bookings (id, user_id, service_id, provider_id, session_id, status, sequence, \
             created_at, updated_at, session_starts_at) \
             SELECT gen_random_uuid(), u.id, $2, $3, s.id, 'Pending', 0, $4, $4, s.starts_at \
             FROM generate_series(0, $1 - 1) AS series(x) \
             JOIN u ON u.n = series.x % $5 JOIN s ON s.n = series.x / $6"
        }
    };
    w.execute(
        query(bookings)
            .bind(n(f.bookings))
            .bind(f.service_id)
            .bind(f.provider_id)
            .bind(f.now)
            .bind(n(f.customers))
            .bind(n(per_session)),
    )
    .await?;
    w.execute(
        query(
            "UPDATE sessions SET booked = (SELECT COUNT(*) FROM bookings b \
             WHERE b.session_id = sessions.id AND b.status <> 'Cancelled') WHERE service_id = $1",
        )
        .bind(f.service_id),
    )
    .await?;
    Ok(())
}

/// `waiting` customers (`waiter-<n>@bench.invalid`, with `password_hash`) waiting for every
/// session of the service, each list in the same order, and the sessions' counters to match.
/// The sessions should be full, as only full sessions have lists.
pub async fn bulk_waitlists(
    store: &Store,
    service_id: Uuid,
    waiting: u64,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store
        .write(move |w| waitlists(w, service_id, waiting, password_hash, now).boxed())
        .await?;
    store.read(|r| settle(r).boxed()).await
}

async fn waitlists(
    w: &mut Writer,
    service_id: Uuid,
    waiting: u64,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (users, entries) = match w.dialect() {
        Dialect::Sqlite => (
            "WITH RECURSIVE series(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM series WHERE x + 1 < $1) \
             INSERT INTO users (id, email, email_key, password_hash, role, is_chirpy_red, created_at, updated_at) \
             SELECT randomblob(16), 'waiter-' || x || '@bench.invalid', 'waiter-' || x || '@bench.invalid', \
             $2, 'customer', FALSE, $3, $3 FROM series",
            "WITH u AS (SELECT id, row_number() OVER (ORDER BY email_key) AS n FROM users \
                        WHERE email_key LIKE 'waiter-%@bench.invalid') \
             INSERT INTO waitlist_entries (id, session_id, service_id, user_id, seq, created_at) \
             SELECT randomblob(16), s.id, $1, u.id, u.n, $2 FROM sessions s CROSS JOIN u \
             WHERE s.service_id = $1",
        ),
        Dialect::Postgres => (
            "INSERT INTO users (id, email, email_key, password_hash, role, is_chirpy_red, created_at, updated_at) \
             SELECT gen_random_uuid(), 'waiter-' || x || '@bench.invalid', 'waiter-' || x || '@bench.invalid', \
             $2, 'customer', FALSE, $3, $3 FROM generate_series(0, $1 - 1) AS series(x)",
            "WITH u AS (SELECT id, row_number() OVER (ORDER BY email_key) AS n FROM users \
                        WHERE email_key LIKE 'waiter-%@bench.invalid') \
             INSERT INTO waitlist_entries (id, session_id, service_id, user_id, seq, created_at) \
             SELECT gen_random_uuid(), s.id, $1, u.id, u.n, $2 FROM sessions s CROSS JOIN u \
             WHERE s.service_id = $1",
        ),
    };
    w.execute(query(users).bind(n(waiting)).bind(password_hash).bind(now))
        .await?;
    w.execute(query(entries).bind(service_id).bind(now)).await?;
    w.execute(
        query(
            "UPDATE sessions SET waiting = (SELECT COUNT(*) FROM waitlist_entries e \
             WHERE e.session_id = sessions.id) WHERE service_id = $1",
        )
        .bind(service_id),
    )
    .await?;
    Ok(())
}
