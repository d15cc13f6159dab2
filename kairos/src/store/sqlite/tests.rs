//! The writer's batches and the connections' settings, against a real file.

use std::{path::Path, sync::Arc, sync::atomic::Ordering};

use futures_util::FutureExt;

use super::{Sqlite, conn::Options};
use crate::{
    domain::refusal::Refusal,
    store::{
        StoreError,
        conn::{Read, Writer},
        lease::Connections,
        principals::PrincipalCache,
        query::query,
    },
};

/// The store on a new file, as the server opens it (two readers).
pub(super) async fn open(path: &Path) -> Sqlite {
    Sqlite::open(
        path,
        2,
        Arc::new(PrincipalCache::new(true)),
        Arc::new(tokio::sync::Notify::new()),
    )
    .await
    .expect("open")
}

async fn read_pragma(c: &mut impl Read, name: &'static str) -> Result<String, StoreError> {
    let statement = match name {
        "journal_mode" => "PRAGMA journal_mode",
        "synchronous" => "SELECT CAST(synchronous AS TEXT) FROM pragma_synchronous",
        "foreign_keys" => "SELECT CAST(foreign_keys AS TEXT) FROM pragma_foreign_keys",
        "temp_store" => "SELECT CAST(temp_store AS TEXT) FROM pragma_temp_store",
        _ => "SELECT CAST(timeout AS TEXT) FROM pragma_busy_timeout",
    };
    c.fetch_one::<(String,)>(query(statement))
        .await
        .map(|(v,)| v)
}

#[tokio::test]
async fn every_connection_is_wal_full_sync_with_foreign_keys_temp_in_memory_and_a_busy_timeout() {
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = open(&dir.path().join("kairos.db")).await;
    for (name, expected) in [
        ("journal_mode", "wal"),
        ("synchronous", "2"),
        ("foreign_keys", "1"),
        ("temp_store", "2"),
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
async fn insert_then_maybe_fail(c: &mut Writer, n: i64) -> Result<i64, StoreError> {
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
    let sqlite = open(&dir.path().join("kairos.db")).await;
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
    let (inserted, untouched) = tokio::join!(futures_util::future::join_all(inserted), untouched);
    for result in inserted {
        assert_eq!(result.expect("write"), (1, 0));
    }
    assert_eq!(untouched.expect("delete"), 0);
}

#[tokio::test]
async fn a_failing_write_in_a_batch_does_not_fail_its_neighbours() {
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = open(&dir.path().join("kairos.db")).await;
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

#[tokio::test]
async fn a_reader_cannot_change_anything_even_through_a_fetch() {
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = open(&dir.path().join("kairos.db")).await;
    // `Reader` has no `execute`; a statement that writes and returns rows is refused by the
    // connection itself, so nothing can write beside the single writer.
    let attempt = sqlite
        .read(|r| {
            r.fetch_all::<(String,)>(query(
                "INSERT INTO login_failures (email_key, failures, window_started_at) \
                 VALUES ('x', 1, '2026-01-01T00:00:00+00:00') RETURNING email_key",
            ))
            .boxed()
        })
        .await;
    assert!(attempt.is_err(), "{attempt:?}");
    let (rows,): (i64,) = sqlite
        .read(|r| {
            r.fetch_one(query("SELECT COUNT(*) FROM login_failures"))
                .boxed()
        })
        .await
        .expect("count");
    assert_eq!(rows, 0);
}

crate::store::record! {
    struct Inner {
        later: Option<chrono::DateTime<chrono::Utc>>,
        flag: bool,
    }
}

crate::store::record! {
    struct Outer {
        id: uuid::Uuid,
        inner: Inner,
        name: String,
    }
}

#[tokio::test]
async fn readers_and_the_writer_read_the_same_values_in_any_column_order() {
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = open(&dir.path().join("kairos.db")).await;
    let id = uuid::Uuid::now_v7();
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-30T10:00:00.123456Z")
        .expect("time")
        .to_utc();
    // Columns out of the fields' order, arguments named out of theirs, one left NULL.
    let statement = move || {
        query("SELECT $3 AS name, $2 AS flag, $1 AS id, $4 AS later, $2 = 1 AS same")
            .bind(id)
            .bind(true)
            .bind("Ada")
            .bind(None::<chrono::DateTime<chrono::Utc>>)
    };
    let read = sqlite
        .read(move |r| r.fetch_one::<Outer>(statement()).boxed())
        .await
        .expect("reader");
    let written = sqlite
        .write(move |w| w.fetch_one::<Outer>(statement()).boxed())
        .await
        .expect("writer");
    for outer in [read, written] {
        assert_eq!((outer.id, outer.name.as_str()), (id, "Ada"));
        assert!(outer.inner.flag);
        assert_eq!(outer.inner.later, None);
    }
    // A time bound by a reader compares with a time the writer stored.
    sqlite
        .write(move |w| {
            w.execute(
                query(
                    "INSERT INTO login_failures (email_key, failures, window_started_at) \
                     VALUES ('k', 1, $1)",
                )
                .bind(at),
            )
            .boxed()
        })
        .await
        .expect("insert");
    let (found, stored): (i64, chrono::DateTime<chrono::Utc>) = sqlite
        .read(move |r| {
            r.fetch_one(
                query(
                    "SELECT COUNT(*), MAX(window_started_at) FROM login_failures \
                     WHERE window_started_at = $1",
                )
                .bind(at),
            )
            .boxed()
        })
        .await
        .expect("read back");
    assert_eq!((found, stored), (1, at));
}

crate::store::record! {
    struct NameOnly {
        name: String,
    }
}

/// Where a record's fields are is found once per statement text, record and thread
/// (`conn::RecordReader`): read again, with other arguments and on several rows, the text reads
/// its new values, and another record reading the same text finds its own columns.
#[tokio::test]
async fn columns_found_once_read_every_row_and_every_record_of_a_text() {
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = open(&dir.path().join("kairos.db")).await;
    let statement = |id: uuid::Uuid, name: &str| {
        query(
            "SELECT $2 AS name, 1 AS flag, $1 AS id, NULL AS later \
             UNION ALL SELECT $2 || '!', 0, $1, NULL",
        )
        .bind(id)
        .bind(name.to_owned())
    };
    for name in ["Ada", "Grace", "Edsger"] {
        let id = uuid::Uuid::now_v7();
        let rows = sqlite
            .read(move |r| r.fetch_all::<Outer>(statement(id, name)).boxed())
            .await
            .expect("outer");
        let read: Vec<_> = rows
            .iter()
            .map(|o| (o.id, o.name.clone(), o.inner.flag))
            .collect();
        let shout = format!("{name}!");
        assert_eq!(
            read,
            [(id, name.to_owned(), true), (id, shout.clone(), false)]
        );
        let names = sqlite
            .read(move |r| r.fetch_all::<NameOnly>(statement(id, name)).boxed())
            .await
            .expect("names");
        let names: Vec<_> = names.into_iter().map(|n| n.name).collect();
        assert_eq!(names, [name.to_owned(), shout]);
    }
}

/// The slots of a statement are worked out once per text and thread (`conn::argument_slots`):
/// run again, a text binds its new arguments, and a text with the same slots in another order
/// is not given the first one's.
#[tokio::test]
async fn a_statement_run_again_binds_its_new_arguments_in_its_own_order() {
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = open(&dir.path().join("kairos.db")).await;
    let pairs = sqlite
        .write(|w| {
            async move {
                let mut pairs = Vec::new();
                for (a, b) in [("x", "y"), ("p", "q")] {
                    for text in ["SELECT $2, $1", "SELECT $1, $2"] {
                        let pair: (String, String) =
                            w.fetch_one(query(text).bind(a).bind(b)).await?;
                        pairs.push(pair);
                    }
                }
                Ok(pairs)
            }
            .boxed()
        })
        .await
        .expect("writer");
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(first, second)| (first.as_str(), second.as_str()))
        .collect();
    assert_eq!(pairs, [("y", "x"), ("x", "y"), ("q", "p"), ("p", "q")]);
}

/// A statement dropped with rows still to come is reset, so its connection goes back to the
/// pool usable.
#[tokio::test]
async fn rows_left_unread_leave_their_connection_usable() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("lease.db");
    // An empty file is an empty database; the store's connections never create one.
    std::fs::File::create(&path).expect("file");
    let options = Options {
        path,
        query_only: false,
    };
    let pool = Arc::new(Connections::new(options, 1, Vec::new()));
    {
        let conn = pool.lease().await.expect("lease");
        let mut statement = conn
            .prepare_cached(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n",
            )
            .expect("prepare");
        let mut rows = statement.raw_query();
        assert!(rows.next().expect("a row").is_some());
        // Dropped here with rows still to come: the statement is reset, not left running.
    }
    let next = pool.lease().await.expect("the same connection");
    assert_eq!(pool.stats(), (1, 0));
    let answer: String = next
        .query_row("SELECT 'fresh'", [], |row| row.get(0))
        .expect("answers its own statement");
    assert_eq!(answer, "fresh");
}
