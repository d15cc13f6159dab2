//! Fault tests on the real binary: SIGKILL under booking load, the database going away, and a
//! full disk. They take minutes and need root for the tmpfs, so they run only with
//! `KAIROS_FAULT_TESTS=1` (`.ci/run` sets it); PostgreSQL halves need `KAIROS_TEST_POSTGRES_URL`.

#![allow(clippy::unwrap_used)]

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use kairos_testkit::{Data, Mail, MailServer, ServerProcess, WebhookReceiver};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, Row};
use tokio::{
    io::AsyncWriteExt,
    net::{TcpListener, TcpStream},
    task::JoinSet,
};
use uuid::Uuid;

mod outages;
mod sigkill;
mod webhooks;

const ADMIN_EMAIL: &str = "admin@kairos.test";
const PASSWORD: &str = "a perfectly fine passphrase";
const SECRET: &str = "fault tests: a secret of at least thirty-two bytes";

fn enabled(test: &str) -> bool {
    let on = std::env::var("KAIROS_FAULT_TESTS").is_ok_and(|v| v == "1");
    if !on {
        eprintln!("{test}: skipped (set KAIROS_FAULT_TESTS=1 to run the fault tests)");
    }
    on
}

fn postgres_url(test: &str) -> Option<String> {
    let url = std::env::var("KAIROS_TEST_POSTGRES_URL").ok();
    if url.is_none() {
        eprintln!("{test}: skipped PostgreSQL (KAIROS_TEST_POSTGRES_URL is not set)");
    }
    url
}

/// Live bookings per session, the counters, capacities, and every booking's status.
async fn contents(data: &Data) -> Contents {
    let bookings = "SELECT id, status FROM bookings";
    let sessions = "SELECT s.id, s.booked, s.capacity, \
         (SELECT COUNT(*) FROM bookings b WHERE b.session_id = s.id AND b.status = 'Pending') \
         FROM sessions s";
    let mut contents = Contents::default();
    if let Some(url) = data.database_url() {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        for row in sqlx::query(bookings).fetch_all(&mut conn).await.unwrap() {
            contents.bookings.insert(row.get(0), row.get(1));
        }
        for row in sqlx::query(sessions).fetch_all(&mut conn).await.unwrap() {
            contents.sessions.push((row.get(1), row.get(2), row.get(3)));
        }
    } else {
        let path = data.dir.path().join("kairos.db");
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        for row in sqlx::query(bookings).fetch_all(&mut conn).await.unwrap() {
            contents.bookings.insert(row.get(0), row.get(1));
        }
        for row in sqlx::query(sessions).fetch_all(&mut conn).await.unwrap() {
            contents.sessions.push((row.get(1), row.get(2), row.get(3)));
        }
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        contents.integrity = check;
    }
    contents
}

#[derive(Default)]
struct Contents {
    bookings: HashMap<Uuid, String>,
    /// (booked counter, capacity, live bookings)
    sessions: Vec<(i64, i64, i64)>,
    integrity: String,
}

/// The real binary, with the fault tests' admin and limits, on its own port so clients keep
/// their address across restarts. `database_url` overrides the data's (a relay in front of it).
fn server(data: &Data, database_url: Option<&str>) -> ServerProcess {
    server_with(data, database_url, &[])
}

/// Like [`server`], with more settings.
fn server_with(data: &Data, database_url: Option<&str>, env: &[(&str, &str)]) -> ServerProcess {
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_kairos"));
    let mut server = ServerProcess::new(
        binary,
        data,
        &[
            ("KAIROS_JWT_SECRET", SECRET),
            ("KAIROS_ADMIN_EMAIL", ADMIN_EMAIL),
            ("KAIROS_ADMIN_PASSWORD", PASSWORD),
            ("KAIROS_LOGINS_PER_IP", "100000000"),
            ("KAIROS_SIGNUPS_PER_IP", "100000000"),
            ("RUST_LOG", "warn"),
        ],
    )
    .unwrap();
    if let Some(url) = database_url {
        server.set_env("DATABASE_URL", url);
    }
    for (name, value) in env {
        server.set_env(name, value);
    }
    server.start().unwrap();
    server
}

#[derive(Clone)]
struct User {
    id: String,
    token: String,
}

async fn login(client: &reqwest::Client, server: &ServerProcess, email: &str) -> User {
    let body: Value = client
        .post(server.url("/api/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    User {
        id: body["id"].as_str().unwrap().to_owned(),
        token: body["token"].as_str().unwrap().to_owned(),
    }
}

async fn post(client: &reqwest::Client, url: String, user: &User, body: Value) -> Value {
    let response = client
        .post(url)
        .bearer_auth(&user.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

/// A provider with `sessions` sessions of `capacity` places, and `customers` customers.
async fn fixture(
    client: &reqwest::Client,
    server: &ServerProcess,
    sessions: usize,
    capacity: u32,
    customers: usize,
) -> (Vec<String>, Vec<User>) {
    let admin = login(client, server, ADMIN_EMAIL).await;
    let mut made = Vec::new();
    for i in 0..=customers {
        let role = if i == 0 { "provider" } else { "customer" };
        let email = format!("{role}-{i}-{}@example.org", Uuid::new_v4().simple());
        let url = server.url(&format!("/api/user/{}/create", admin.id));
        let body = json!({ "email": email, "password": PASSWORD, "role": role });
        post(client, url, &admin, body).await;
        made.push(login(client, server, &email).await);
    }
    let provider = made.remove(0);
    let url = server.url(&format!(
        "/api/user/{}/services/create/publish",
        provider.id
    ));
    let body = json!({ "name": "Faults", "durationMinutes": 60, "capacity": capacity,
                       "timeZone": "UTC" });
    let service = post(client, url, &provider, body).await;
    let mut ids = Vec::new();
    for i in 0..sessions {
        let url = server.url(&format!(
            "/api/user/{}/services/{}/sessions",
            provider.id,
            service["id"].as_str().unwrap()
        ));
        let starts = chrono::Utc::now() + chrono::Duration::days(2 + i as i64);
        let made = post(client, url, &provider, json!({ "startsAt": starts })).await;
        ids.push(made[0]["id"].as_str().unwrap().to_owned());
    }
    (ids, made)
}

/// A small deterministic generator per worker: the load differs from run to run only in timing.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// What the clients were told.
#[derive(Default)]
struct Acknowledged {
    /// Booking id → its last acknowledged status.
    bookings: HashMap<Uuid, &'static str>,
    /// Requests that got no answer (the server died under them): they may or may not have landed.
    unanswered_books: u64,
    unanswered_cancels: u64,
    server_errors: u64,
}

/// Books and cancels from `workers` clients until `stop`; every answer goes into `acked`.
fn booking_load(
    client: &reqwest::Client,
    server: &ServerProcess,
    sessions: &[String],
    customers: &[User],
    workers: usize,
    stop: &Arc<AtomicBool>,
    acked: &Arc<Mutex<Acknowledged>>,
) -> JoinSet<()> {
    let mut set = JoinSet::new();
    for w in 0..workers {
        let (client, stop, acked) = (client.clone(), stop.clone(), acked.clone());
        let base = server.url("");
        let sessions = sessions.to_vec();
        let customers = customers.to_vec();
        set.spawn(async move {
            let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ (w as u64 + 1));
            let mut mine: Vec<(User, Uuid)> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if !mine.is_empty() && dice.below(3) == 0 {
                    let (user, booking) = mine.swap_remove(dice.below(mine.len()));
                    let url = format!("{base}/api/user/{}/bookings/{booking}/cancel", user.id);
                    let sent = client.post(url).bearer_auth(&user.token).send().await;
                    let mut acked = acked.lock().unwrap();
                    match sent {
                        Ok(r) if r.status().is_success() => {
                            acked.bookings.insert(booking, "Cancelled");
                        }
                        Ok(r) if r.status().is_server_error() => acked.server_errors += 1,
                        Ok(_) => {}
                        Err(_) => acked.unanswered_cancels += 1,
                    }
                    continue;
                }
                let user = &customers[dice.below(customers.len())];
                let session = &sessions[dice.below(sessions.len())];
                let url = format!("{base}/api/user/{}/book", user.id);
                let sent = client
                    .post(url)
                    .bearer_auth(&user.token)
                    .json(&json!({ "sessionId": session }))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == StatusCode::CREATED => {
                        // The 201 is the acknowledgement, whether or not its body arrives.
                        match r.json::<Value>().await {
                            Ok(body) => {
                                let id: Uuid = body["id"].as_str().unwrap().parse().unwrap();
                                acked.lock().unwrap().bookings.insert(id, "Pending");
                                mine.push((user.clone(), id));
                            }
                            Err(_) => acked.lock().unwrap().unanswered_books += 1,
                        }
                    }
                    Ok(r) if r.status().is_server_error() => {
                        acked.lock().unwrap().server_errors += 1;
                    }
                    Ok(_) => {}
                    Err(_) => {
                        acked.lock().unwrap().unanswered_books += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        });
    }
    set
}

fn client() -> reqwest::Client {
    kairos_testkit::http_client()
        .timeout(Duration::from_secs(20))
        .pool_max_idle_per_host(64)
        .build()
        .unwrap()
}
