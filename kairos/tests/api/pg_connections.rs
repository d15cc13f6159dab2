//! The store lends its PostgreSQL connections itself, without sqlx's ping around every use: a
//! connection the server hung up on while it sat idle is replaced without an error, and one
//! whose request was abandoned in the middle of a transaction is closed, never lent again
//! with that transaction open. (SQLite's connections are files on this machine: nothing to
//! test there.)

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::{Connection, PgConnection};

use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with};

async fn database(app: &TestApp) -> PgConnection {
    let url = app.settings.database_url.as_deref().unwrap();
    PgConnection::connect(url).await.unwrap()
}

/// The server's connections to its database that are in a transaction but not running anything.
async fn idle_in_transaction(db: &mut PgConnection) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'",
    )
    .fetch_one(db)
    .await
    .unwrap()
}

#[tokio::test]
async fn connections_the_server_ended_while_idle_are_replaced_without_an_error() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let ann = app.customer().await;
    let path = format!("/api/user/{}/bookings", ann.id);
    let reads = || join_all((0..8).map(|_| app.get(&path, &ann.token)));
    for response in reads().await {
        assert_eq!(response.status(), StatusCode::OK);
    }
    let mut db = database(&app).await;
    assert!(
        end_server_connections(&mut db).await >= 1,
        "the server held connections"
    );
    // Past the time within which a connection is trusted without a ping (one second).
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    for response in reads().await {
        assert_eq!(response.status(), StatusCode::OK, "read after the hang-up");
    }
    let session = app
        .class(serde_json::json!({ "name": "Pilates" }), 48, 5)
        .await
        .session;
    assert_eq!(app.book(&ann, &session).await.status(), StatusCode::CREATED);
}

/// Ends every connection of the server's to its database; answers how many there were, once
/// they are gone.
async fn end_server_connections(db: &mut PgConnection) -> i64 {
    // Materialized first, so this connection is never among those ended.
    let ended: i64 = sqlx::query_scalar(
        "WITH others AS MATERIALIZED (SELECT pid FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()) \
         SELECT COUNT(*) FILTER (WHERE pg_terminate_backend(pid)) FROM others",
    )
    .fetch_one(&mut *db)
    .await
    .unwrap();
    for _ in 0..50 {
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
        )
        .fetch_one(&mut *db)
        .await
        .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    ended
}

/// Within the second a connection is trusted without a ping, a hung-up connection fails the
/// statement sent on it: a read then runs again on another connection, so no one sees it.
#[tokio::test]
async fn reads_on_connections_the_server_ended_a_moment_ago_are_run_again() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let ann = app.customer().await;
    let path = format!("/api/user/{}/bookings", ann.id);
    let services = "/api/services".to_owned();
    let mut db = database(&app).await;
    for round in 0..3 {
        let warm = join_all((0..8).map(|_| app.get(&path, &ann.token))).await;
        assert!(warm.iter().all(|r| r.status() == StatusCode::OK));
        assert!(
            end_server_connections(&mut db).await >= 1,
            "the server held connections"
        );
        let reads = join_all((0..8).map(|n| {
            let path = if n % 2 == 0 { &path } else { &services };
            app.get(path, &ann.token)
        }))
        .await;
        for response in reads {
            assert_eq!(response.status(), StatusCode::OK, "round {round}");
        }
    }
}

#[tokio::test]
async fn a_booking_abandoned_mid_transaction_is_rolled_back_and_its_connection_closed() {
    let Some(app) = spawn_app_with(Backend::Postgres, |settings| {
        settings.request_time_limit = Duration::from_millis(300);
    })
    .await
    else {
        return;
    };
    let session = app
        .class(serde_json::json!({ "name": "Pilates" }), 48, 5)
        .await
        .session;
    let session_id = session["id"]
        .as_str()
        .unwrap()
        .parse::<uuid::Uuid>()
        .unwrap();
    let (ann, bob) = (app.customer().await, app.customer().await);

    // Hold the session's row, so the booking waits inside its transaction until the request's
    // time limit drops it.
    let mut holder = database(&app).await;
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("SELECT id FROM sessions WHERE id = $1 FOR UPDATE")
        .bind(session_id)
        .execute(&mut holder)
        .await
        .unwrap();
    let abandoned = app.book(&ann, &session).await;
    assert_eq!(abandoned.status(), StatusCode::SERVICE_UNAVAILABLE);
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();

    // The abandoned booking's backend gets the lock, finds its client gone and rolls back.
    let mut db = database(&app).await;
    for _ in 0..50 {
        if idle_in_transaction(&mut db).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        idle_in_transaction(&mut db).await,
        0,
        "a transaction left open"
    );

    let booked = app.book(&bob, &session).await;
    assert_eq!(booked.status(), StatusCode::CREATED);
    let held: Vec<(String, i64)> = sqlx::query_as(
        "SELECT u.email, s.booked FROM bookings b JOIN users u ON u.id = b.user_id \
         JOIN sessions s ON s.id = b.session_id WHERE b.session_id = $1",
    )
    .bind(session_id)
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(
        held,
        [(bob.email.clone(), 1)],
        "only Bob's booking, counted once"
    );
    let mine: Value = app
        .get(&format!("/api/user/{}/bookings", ann.id), &ann.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine, serde_json::json!([]), "Ann holds nothing");
}
