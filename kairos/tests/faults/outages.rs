//! The database going away under load: PostgreSQL stopped for 30 s, SQLite's disk full for
//! 30 s. Answers stay fast (503 with problem JSON), nothing half-written, and service returns.

use super::*;

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
