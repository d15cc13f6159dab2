//! Upgrading a database that already holds data: what a migration rebuilds keeps every row.

use std::path::Path;

use sqlx::{ConnectOptions, Row, migrate::Migrator, sqlite::SqliteJournalMode};
use uuid::Uuid;

use super::options;
use crate::store::Constraint;

/// The migrations up to `last`, as an older server's build had them embedded.
async fn migrations_up_to(last: i64, into: &Path) -> Migrator {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for file in std::fs::read_dir(&here).expect("the migrations") {
        let file = file.expect("a migration");
        let name = file.file_name().to_string_lossy().into_owned();
        let version: i64 = name[..4].parse().expect("a numbered migration");
        if version <= last {
            std::fs::copy(file.path(), into.join(&name)).expect("copy a migration");
        }
    }
    Migrator::new(into).await.expect("the older migrations")
}

/// Someone upgrading while people wait keeps them all, each in their place in their list, and
/// the one-entry-per-user rule still holds (`0012_waitlist_two_btrees.sql` rebuilds the table).
#[tokio::test]
async fn an_upgrade_keeps_everyone_waiting_in_their_place() {
    let dir = tempfile::tempdir().expect("dir");
    let older = dir.path().join("older");
    std::fs::create_dir(&older).expect("older migrations");
    // The entries alone, without the users and sessions they name: the rebuild copies rows and
    // checks no reference, and what is checked here is that each row arrives as it was.
    let mut conn = options(&dir.path().join("kairos.db"))
        .journal_mode(SqliteJournalMode::Wal)
        .create_if_missing(true)
        .foreign_keys(false)
        .connect()
        .await
        .expect("connect");
    migrations_up_to(11, &older)
        .await
        .run(&mut conn)
        .await
        .expect("migrate as an older server");
    let (session, other, service) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    let waiting = [
        (Uuid::now_v7(), session, first, 1_i64),
        (Uuid::now_v7(), session, second, 2),
        (Uuid::now_v7(), other, first, 7),
    ];
    for (id, session_id, user_id, seq) in waiting {
        sqlx::query(
            "INSERT INTO waitlist_entries (id, session_id, service_id, user_id, seq, created_at) \
             VALUES ($1, $2, $3, $4, $5, '2026-12-01T09:00:00+00:00')",
        )
        .bind(id)
        .bind(session_id)
        .bind(service)
        .bind(user_id)
        .bind(seq)
        .execute(&mut conn)
        .await
        .expect("someone waiting");
    }

    sqlx::migrate!("./migrations/sqlite")
        .run(&mut conn)
        .await
        .expect("upgrade");

    let rows = sqlx::query(
        "SELECT id, session_id, user_id, seq FROM waitlist_entries ORDER BY session_id, seq",
    )
    .fetch_all(&mut conn)
    .await
    .expect("the entries");
    let kept: Vec<(Uuid, Uuid, Uuid, i64)> = rows
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3)))
        .collect();
    assert_eq!(kept, waiting.to_vec());
    let again = sqlx::query(
        "INSERT INTO waitlist_entries (id, session_id, service_id, user_id, seq, created_at) \
         VALUES ($1, $2, $3, $4, 3, '2026-12-01T09:05:00+00:00')",
    )
    .bind(Uuid::now_v7())
    .bind(session)
    .bind(service)
    .bind(second)
    .execute(&mut conn)
    .await
    .expect_err("a second entry for one user in one list");
    // As the store reads it, so a join refused by the rebuilt index is still `already_waiting`.
    let message = again.as_database_error().map(|e| e.message().to_owned());
    assert_eq!(
        message.as_deref().and_then(Constraint::from_sqlite_message),
        Some(Constraint::WaitlistOnePerUser),
        "{again}"
    );
}
