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

use kairos_testkit::{Data, ServerProcess};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, Row};
use tokio::{
    io::AsyncWriteExt,
    net::{TcpListener, TcpStream},
    task::JoinSet,
};
use uuid::Uuid;

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
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .pool_max_idle_per_host(64)
        .build()
        .unwrap()
}

/// SIGKILL at random moments under booking load, 20 times, restarting on the same data.
async fn killed_twenty_times_under_load(data: Data, backend: &str) {
    let client = client();
    let mut server = server(&data, None);
    server.ready(&client).await.unwrap();
    let (sessions, customers) = fixture(&client, &server, 6, 10, 40).await;
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let mut load = booking_load(&client, &server, &sessions, &customers, 16, &stop, &acked);
    let mut dice = Dice(42);
    let mut restarts = Vec::new();
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(200 + dice.below(1300) as u64)).await;
        server.kill();
        server.start().unwrap();
        restarts.push(server.ready(&client).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    while load.join_next().await.is_some() {}
    server.kill();

    let contents = contents(&data).await;
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let lost: Vec<_> = acked
        .bookings
        .iter()
        .filter(
            |(id, status)| match contents.bookings.get(id).map(String::as_str) {
                None => true,
                // A cancellation that got no answer may have landed after the booking's 201.
                Some(stored) => **status == "Cancelled" && stored != "Cancelled",
            },
        )
        .collect();
    let ghost_bookings = contents
        .bookings
        .keys()
        .filter(|id| !acked.bookings.contains_key(id))
        .count();
    let ghost_cancels = contents
        .bookings
        .iter()
        .filter(|(id, stored)| *stored == "Cancelled" && acked.bookings.get(id) == Some(&"Pending"))
        .count();
    let over = contents.sessions.iter().filter(|(b, c, _)| b > c).count();
    let miscounted = contents
        .sessions
        .iter()
        .filter(|(b, _, live)| b != live)
        .count();
    let slowest = restarts.iter().max().unwrap();
    println!(
        "{backend}: 20 SIGKILLs; acknowledged bookings {}, acknowledged-but-lost {}, \
         ghost writes {} bookings + {} cancellations (of {} + {} unanswered requests), \
         sessions over capacity {over}, counters off {miscounted}, 5xx {}, slowest restart {slowest:?}",
        acked.bookings.len(),
        lost.len(),
        ghost_bookings,
        ghost_cancels,
        acked.unanswered_books,
        acked.unanswered_cancels,
        acked.server_errors,
    );
    assert!(
        acked.bookings.len() > 100,
        "the load booked too little to tell"
    );
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(ghost_bookings as u64 <= acked.unanswered_books);
    assert!(ghost_cancels as u64 <= acked.unanswered_cancels);
    assert_eq!(over, 0, "a session over capacity");
    assert_eq!(miscounted, 0, "a counter differs from its live bookings");
    if backend == "sqlite" {
        assert_eq!(contents.integrity, "ok");
    }
    assert!(
        !server.log_text().contains("panicked"),
        "a panic in the log"
    );
    drop(data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_nothing_acknowledged_sqlite() {
    if enabled("sigkill sqlite") {
        killed_twenty_times_under_load(Data::fresh(None).await.unwrap(), "sqlite").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_nothing_acknowledged_postgres() {
    if enabled("sigkill postgres")
        && let Some(url) = postgres_url("sigkill postgres")
    {
        killed_twenty_times_under_load(Data::fresh(Some(&url)).await.unwrap(), "postgres").await;
    }
}

/// What clients saw while the database was away and after it came back.
struct Outage {
    answered: AtomicU64,
    unavailable: AtomicU64,
    other_5xx: AtomicU64,
    not_problem_json: AtomicU64,
    slowest_ms: AtomicU64,
}

/// Reads and bookings from `workers` clients, timing each answer, until `stop`.
fn outage_load(
    client: &reqwest::Client,
    server: &ServerProcess,
    sessions: &[String],
    customers: &[User],
    stop: &Arc<AtomicBool>,
    seen: &Arc<Outage>,
) -> JoinSet<()> {
    let mut set = JoinSet::new();
    for w in 0..8 {
        let (client, stop, seen) = (client.clone(), stop.clone(), seen.clone());
        let base = server.url("");
        let (sessions, customers) = (sessions.to_vec(), customers.to_vec());
        set.spawn(async move {
            let mut dice = Dice(7 + w);
            // A booking this worker made, to cancel next: every booking worker keeps writing.
            let mut made: Option<(User, String)> = None;
            while !stop.load(Ordering::Relaxed) {
                let mut user = &customers[dice.below(customers.len())];
                let booked = made.take();
                let request = if w % 2 == 0 {
                    client.get(format!("{base}/api/user/{}/bookings", user.id))
                } else if let Some((owner, booking)) = &booked {
                    user = owner;
                    client.post(format!(
                        "{base}/api/user/{}/bookings/{booking}/cancel",
                        owner.id
                    ))
                } else {
                    let session = &sessions[dice.below(sessions.len())];
                    client
                        .post(format!("{base}/api/user/{}/book", user.id))
                        .json(&json!({ "sessionId": session }))
                };
                let started = Instant::now();
                let Ok(response) = request.bearer_auth(&user.token).send().await else {
                    continue;
                };
                let ms = started.elapsed().as_millis() as u64;
                seen.answered.fetch_add(1, Ordering::Relaxed);
                let status = response.status();
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    seen.unavailable.fetch_add(1, Ordering::Relaxed);
                    seen.slowest_ms.fetch_max(ms, Ordering::Relaxed);
                    let problem = response.headers()["content-type"] == "application/problem+json"
                        && response.headers().contains_key("retry-after");
                    if !problem {
                        seen.not_problem_json.fetch_add(1, Ordering::Relaxed);
                    }
                } else if status.is_server_error() {
                    seen.other_5xx.fetch_add(1, Ordering::Relaxed);
                } else if status == StatusCode::CREATED
                    && let Ok(body) = response.json::<Value>().await
                {
                    made = Some((user.clone(), body["id"].as_str().unwrap().to_owned()));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
    }
    set
}

/// A TCP relay to PostgreSQL that can be cut: while cut, every connection through it is closed
/// and new ones are closed as soon as they arrive, as when the database is stopped.
struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
    generation: Arc<AtomicU64>,
}

impl Relay {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(AtomicU64::new(0));
        let (up2, generation2) = (up.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    let _ = inbound.shutdown().await;
                    continue;
                }
                let born = generation2.load(Ordering::SeqCst);
                let (target, generation) = (target.clone(), generation2.clone());
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    let relay = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                    let cut = async {
                        while generation.load(Ordering::SeqCst) == born {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    };
                    tokio::select! { _ = relay => {}, _ = cut => {} }
                });
            }
        });
        Self {
            port,
            up,
            generation,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Runs 30 s of fault under load; returns how long service took to come back. `partial`: the
/// fault lets some writes through (a full disk), so `/readyz` may say ready between failures.
async fn survive(
    client: &reqwest::Client,
    server: &ServerProcess,
    what: &str,
    partial: bool,
    fault: impl FnOnce(),
    repair: impl FnOnce(),
    (sessions, customers): &(Vec<String>, Vec<User>),
) -> Duration {
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Outage {
        answered: AtomicU64::new(0),
        unavailable: AtomicU64::new(0),
        other_5xx: AtomicU64::new(0),
        not_problem_json: AtomicU64::new(0),
        slowest_ms: AtomicU64::new(0),
    });
    let mut load = outage_load(client, server, sessions, customers, &stop, &seen);
    tokio::time::sleep(Duration::from_secs(1)).await;
    fault();
    let fault_started = Instant::now();
    // /readyz says not ready within a few seconds, and keeps saying it.
    let (mut not_ready, mut probes, mut ready_while_broken) = (false, 0, 0);
    while fault_started.elapsed() < Duration::from_secs(30) {
        let ready = client.get(server.url("/readyz")).send().await.unwrap();
        if ready.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(ready.headers()["content-type"], "application/problem+json");
            not_ready = true;
        } else if fault_started.elapsed() > Duration::from_secs(1) {
            // SQLite on a full disk can still commit while its WAL has room to reuse, and then
            // it is ready; PostgreSQL gone is never ready.
            ready_while_broken += 1;
        }
        probes += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    repair();
    let repaired = Instant::now();
    let book = client
        .post(server.url(&format!("/api/user/{}/book", customers[0].id)))
        .bearer_auth(&customers[0].token)
        .json(&json!({ "sessionId": sessions.last().unwrap() }));
    loop {
        let ready = client
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status();
        let wrote = book.try_clone().unwrap().send().await.unwrap().status();
        if ready == StatusCode::OK && wrote != StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        assert!(
            repaired.elapsed() < Duration::from_secs(5),
            "{what}: not back 5 s after the repair (ready {ready}, booking {wrote})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovery = repaired.elapsed();
    stop.store(true, Ordering::Relaxed);
    while load.join_next().await.is_some() {}
    let (answered, unavailable) = (
        seen.answered.load(Ordering::Relaxed),
        seen.unavailable.load(Ordering::Relaxed),
    );
    let slowest = seen.slowest_ms.load(Ordering::Relaxed);
    println!(
        "{what}: 30 s under load: {answered} answers, {unavailable} of them 503, other 5xx {}, \
         slowest 503 {slowest} ms; /readyz ready in {ready_while_broken} of {probes} probes; \
         back {recovery:?} after the repair",
        seen.other_5xx.load(Ordering::Relaxed)
    );
    if !partial {
        assert_eq!(ready_while_broken, 0, "{what}: /readyz said ready");
    }
    assert!(not_ready, "{what}: /readyz never said not ready");
    assert!(unavailable > 0, "{what}: nothing was refused");
    assert_eq!(
        seen.other_5xx.load(Ordering::Relaxed),
        0,
        "{what}: 5xx other than 503"
    );
    assert_eq!(
        seen.not_problem_json.load(Ordering::Relaxed),
        0,
        "{what}: a 503 without problem JSON and Retry-After"
    );
    assert!(slowest < 6_000, "{what}: a 503 took {slowest} ms");
    assert!(!server.log_text().contains("panicked"), "{what}: a panic");
    recovery
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_gone_for_thirty_seconds_fails_fast_and_comes_back() {
    if !enabled("postgres outage") {
        return;
    }
    let Some(admin_url) = postgres_url("postgres outage") else {
        return;
    };
    let data = Data::fresh(Some(&admin_url)).await.unwrap();
    let direct = reqwest::Url::parse(data.database_url().unwrap()).unwrap();
    let target = format!(
        "{}:{}",
        direct.host_str().unwrap(),
        direct.port().unwrap_or(5432)
    );
    let relay = Relay::start(target).await;
    let mut through = direct.clone();
    through.set_port(Some(relay.port)).unwrap();
    let client = client();
    let mut server = server(&data, Some(through.as_str()));
    server.ready(&client).await.unwrap();
    let fixture = fixture(&client, &server, 4, 1000, 8).await;
    survive(
        &client,
        &server,
        "postgres stopped",
        false,
        || relay.cut(),
        || relay.restore(),
        &fixture,
    )
    .await;
    server.kill();
    drop(data);
}

/// A tmpfs of `size` at a new directory; unmounted on drop.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "mounting a tmpfs needs root");
        Self(dir)
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

/// Fills the filesystem at `dir` to the last byte with one file.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    while file.write_all(&block).is_ok() {}
    while file.write_all(&[0u8; 512]).is_ok() {}
    let _ = file.sync_all();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_full_disk_for_thirty_seconds_fails_fast_and_comes_back() {
    if !enabled("sqlite disk full") {
        return;
    }
    let tmpfs = Tmpfs::mount("64m");
    let data = Data::sqlite_in(tempfile::tempdir_in(tmpfs.path()).unwrap());
    let client = client();
    let mut server = server(&data, None);
    server.ready(&client).await.unwrap();
    let fixture = fixture(&client, &server, 4, 1000, 8).await;
    let filler = Arc::new(Mutex::new(None));
    let (f1, f2) = (filler.clone(), filler.clone());
    let dir = tmpfs.path().to_owned();
    survive(
        &client,
        &server,
        "sqlite disk full",
        true,
        move || *f1.lock().unwrap() = Some(fill(&dir)),
        move || {
            if let Some(path) = f2.lock().unwrap().take() {
                std::fs::remove_file(path).unwrap();
            }
        },
        &fixture,
    )
    .await;
    server.kill();
    let contents = contents(&data).await;
    assert_eq!(contents.integrity, "ok", "PRAGMA integrity_check");
    let miscounted = contents
        .sessions
        .iter()
        .filter(|(b, _, live)| b != live)
        .count();
    assert_eq!(miscounted, 0, "a counter differs from its live bookings");
    let log = server.log_text();
    assert!(!log.contains("database is locked"));
}
