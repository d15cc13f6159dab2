//! `kairos backup --to FILE`: on SQLite, a consistent copy taken while the server runs and
//! takes bookings; on PostgreSQL, a pointer to pg_dump and a failure.

use std::{
    collections::HashSet,
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, Row, SqliteConnection, sqlite::SqliteConnectOptions};
use uuid::Uuid;

use crate::helpers::{Backend, Login, TestApp, id_of, on_both_backends};

on_both_backends!(a_backup_taken_under_load_holds_every_acknowledged_booking);

async fn a_backup_taken_under_load_holds_every_acknowledged_booking(app: TestApp) {
    let target = app.data_dir.path().join("backup.db");
    if app.backend == Backend::Postgres {
        let run = backup(&app, &target);
        assert!(
            !run.status.success(),
            "a PostgreSQL backup is not ours to take"
        );
        let said = String::from_utf8_lossy(&run.stderr);
        assert!(said.contains("pg_dump"), "{said}");
        assert!(!target.exists());
        return;
    }
    let provider = app.provider().await;
    let service = app
        .published_service(&provider, json!({ "capacity": 50 }))
        .await;
    let body = json!({ "startsAt": app.in_hours(48), "capacity": 50,
                       "repeat": { "weekdays": ["monday", "wednesday", "friday"], "count": 60 } });
    let sessions = app.add_sessions(&provider, &service, body).await;
    let mut customers = Vec::new();
    for _ in 0..8 {
        customers.push(app.customer().await);
    }
    // Eight clients book session after session; each acknowledged booking is noted with
    // whether it was acknowledged before the backup began.
    let acknowledged: Arc<Mutex<Vec<(Uuid, bool)>>> = Arc::default();
    let started = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = customers
        .into_iter()
        .map(|customer| {
            let (client, base) = (app.client.clone(), app.address.clone());
            let (sessions, acknowledged, started) = (
                sessions.clone(),
                Arc::clone(&acknowledged),
                Arc::clone(&started),
            );
            tokio::spawn(async move {
                for session in &sessions {
                    let booked = book(&client, &base, &customer, session).await;
                    if let Some(id) = booked {
                        let before = !started.load(Ordering::SeqCst);
                        acknowledged.lock().unwrap().push((id, before));
                    }
                }
            })
        })
        .collect();
    // Let the load get going, then back up beside it.
    while acknowledged.lock().unwrap().len() < 40 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    started.store(true, Ordering::SeqCst);
    let run = tokio::task::spawn_blocking({
        let (data_dir, target) = (app.data_dir.path().to_owned(), target.clone());
        move || backup_sqlite(&data_dir, &target)
    })
    .await
    .unwrap();
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(said.contains("integrity_check: ok"), "{said}");
    for task in load {
        task.await.unwrap();
    }

    let mut copy = SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(&target)
            .read_only(true),
    )
    .await
    .unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let held: HashSet<Uuid> = sqlx::query("SELECT id FROM bookings")
        .fetch_all(&mut copy)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let acknowledged = acknowledged.lock().unwrap().clone();
    let before: Vec<Uuid> = acknowledged
        .iter()
        .filter(|(_, b)| *b)
        .map(|(id, _)| *id)
        .collect();
    let missing: Vec<&Uuid> = before.iter().filter(|id| !held.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup, not in it: {missing:?}"
    );
    assert!(
        acknowledged.len() > before.len(),
        "bookings went on during the backup"
    );
    println!(
        "backup under load: {} bookings acknowledged before it began, all {} in the copy; {} \
         during and after",
        before.len(),
        held.len(),
        acknowledged.len() - before.len()
    );
    // A consistent copy: every session's counter is its live bookings in the copy.
    let (_, copied_counter): (i64, i64) = {
        let row = sqlx::query("SELECT COUNT(*), COALESCE(SUM(booked), 0) FROM sessions")
            .fetch_one(&mut copy)
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(
        copied_counter as usize,
        held.len(),
        "counters match the bookings copied"
    );
    let again = backup_sqlite(app.data_dir.path(), &target);
    assert!(
        !again.status.success(),
        "an existing file is not overwritten"
    );
}

async fn book(client: &reqwest::Client, base: &str, who: &Login, session: &Value) -> Option<Uuid> {
    let response = client
        .post(format!("{base}/api/user/{}/book", who.id))
        .bearer_auth(&who.token)
        .json(&json!({ "sessionId": id_of(session) }))
        .send()
        .await
        .ok()?;
    if response.status() != StatusCode::CREATED {
        return None;
    }
    let booking: Value = response.json().await.ok()?;
    Some(id_of(&booking))
}

fn backup_sqlite(data_dir: &std::path::Path, target: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kairos"))
        .args(["backup", "--to"])
        .arg(target)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .output()
        .expect("kairos backup runs")
}

fn backup(app: &TestApp, target: &std::path::Path) -> std::process::Output {
    let url = app.settings.database_url.clone().unwrap_or_default();
    Command::new(env!("CARGO_BIN_EXE_kairos"))
        .args(["backup", "--to"])
        .arg(target)
        .args(["--database-url", &url])
        .output()
        .expect("kairos backup runs")
}
